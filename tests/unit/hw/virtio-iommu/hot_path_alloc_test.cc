// The device's hot path does not allocate (docs/design.md, "Conventions"): once warm, request round
// trips (ATTACH, DETACH, MAP and UNMAP of an interval a leaf has room for, PROBE) and translations,
// faults included, make no heap allocation anywhere in the process. tests/support/replaced_new.cc counts them.
#include <catch2/catch.hpp>

#include "tests/support/prepared_guest.h"
#include "tests/support/replaced_new.h"

using namespace viommu;

TEST_CASE("warm request round trips and translations allocate nothing", "[unit][virtio-iommu][hot-path]")
{
    hw::virtio_iommu::IommuConfig config;
    config.reserved = {hw::virtio_iommu::x86_msi_region()};
    test::PreparedGuest d(config);
    // Domain 1 stays alive through endpoint 8 and keeps a mapping, so the loop neither creates nor
    // destroys domains or tree nodes (those allocate, within the device's limits).
    REQUIRE(d.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(d.map(0x100000) == VIRTIO_IOMMU_S_OK);
    d.device.config_write(offsetof(virtio_iommu_config, bypass), 1, 0);

    auto round = [&] {
        REQUIRE(d.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.map(0x2000) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.device.translate(hw::virtio_iommu::EndpointId(0x10), Iova(0x2010), hw::virtio_iommu::Access::kRead).ok);
        REQUIRE_FALSE(d.device.translate(hw::virtio_iommu::EndpointId(0x10), Iova(0x2010), hw::virtio_iommu::Access::kWrite).ok); // a fault report
        REQUIRE_FALSE(d.device.translate(hw::virtio_iommu::EndpointId(0x11), Iova(0x9000), hw::virtio_iommu::Access::kRead).ok);  // DOMAIN fault
        REQUIRE(d.unmap(0x2000) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.unmap(0x7000000) == VIRTIO_IOMMU_S_OK); // nothing there
        REQUIRE(d.probe(8) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.detach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    };
    for (int i = 0; i < 100; ++i)
        round(); // warm: asio's handler memory, the attached-node spare list, the event ring
    const uint64_t before = test::allocations();
    for (int i = 0; i < 10000; ++i)
        round();
    CHECK(test::allocations() - before == 0);
    CHECK(d.client.faults_seen() >= 20000);
    CHECK(d.device.stats().faults_dropped == 0);
}
