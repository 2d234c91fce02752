// The behaviours of the kernel parts the boot plays itself (PCI bus type, iommu_device_register()),
// resolved once from a kernel profile.
#include <catch2/catch.hpp>

#include "system/boot/boot_behaviour.h"
#include "tests/support/behaviour.h"

using viommu::system::boot::BootBehaviour;

constexpr auto resolve = viommu::test::resolve_behaviour<BootBehaviour>;

TEST_CASE("5.18's boot: no DMA ownership, groups made at driver bind", "[unit][boot][profiles]")
{
    const BootBehaviour b = resolve("5.18");
    CHECK_FALSE(b.dma_ownership);
    CHECK_FALSE(b.probe_at_register);
    CHECK_FALSE(b.instance_lookup_robust);
}

TEST_CASE("6.12's boot: drivers use the default domain, groups still made at driver bind", "[unit][boot][profiles]")
{
    const BootBehaviour b = resolve("6.12");
    CHECK(b.dma_ownership);
    CHECK_FALSE(b.probe_at_register);
    CHECK_FALSE(b.instance_lookup_robust);
}

TEST_CASE("6.16.4's boot: the IOMMU probes its devices at register and finds its instance", "[unit][boot][profiles]")
{
    const BootBehaviour b = resolve("6.16.4");
    CHECK(b.dma_ownership);
    CHECK(b.probe_at_register);
    CHECK(b.instance_lookup_robust);
}
