// The VFIO gate's behaviours, resolved once from a kernel profile, with the commits verdicts cite.
#include <catch2/catch.hpp>

#include "guest-model/profiles/fact_keys.h"
#include "guest-model/vfio/gate_behaviour.h"
#include "tests/support/behaviour.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;
using namespace viommu::guest::driver_core;
using namespace viommu::guest::kernel;

constexpr auto resolve = viommu::test::resolve_behaviour<vfio::GateBehaviour>;

TEST_CASE("5.18's VFIO: no coherency requirement, no group ownership, no iommufd", "[unit][vfio][profiles]")
{
    const vfio::GateBehaviour b = resolve("5.18");
    CHECK(b.noiommu);
    CHECK_FALSE(b.noiommu_ignores_bus_iommu);
    CHECK_FALSE(b.requires_cache_coherency);
    CHECK_FALSE(b.coherency_check_in_register_dev);
    CHECK_FALSE(b.dma_ownership);
    CHECK_FALSE(b.iommufd);
    CHECK_FALSE(b.iommufd_isolated_msi_at_bind);
    CHECK_FALSE(b.iommufd_vfio_compat);
    CHECK_FALSE(b.device_cdev);
    CHECK_FALSE(b.type1_isolated_msi);
}

TEST_CASE("6.6's VFIO: coherency asked in __vfio_register_dev(), iommufd checks MSIs at bind", "[unit][vfio][profiles]")
{
    const vfio::GateBehaviour b = resolve("6.6");
    CHECK(b.noiommu);
    CHECK(b.noiommu_ignores_bus_iommu);
    CHECK(b.requires_cache_coherency);
    CHECK(b.coherency_check_in_register_dev);
    CHECK(b.dma_ownership);
    CHECK(b.iommufd);
    CHECK(b.iommufd_isolated_msi_at_bind);
    CHECK(b.iommufd_vfio_compat);
    CHECK(b.device_cdev);
    CHECK(b.type1_isolated_msi);
}

TEST_CASE("the gate cites the commit behind each behaviour it resolved", "[unit][vfio][profiles]")
{
    const vfio::GateBehaviour b = resolve("6.6");
    CHECK(b.commit(fact::vfio::kRequiresCacheCoherency).substr(0, 12) == "e8ae0e140c05");
    CHECK(b.commit(fact::iommu::kDmaOwnership).substr(0, 12) == "1ea2a07a532b");
    CHECK_THROWS_AS(b.commit(fact::iommu::kDmaFqType), std::logic_error);
}
