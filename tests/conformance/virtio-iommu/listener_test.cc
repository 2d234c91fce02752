// Host listeners (QEMU's IOMMU notifiers, which VFIO uses): every change an endpoint can see.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;

namespace {
struct Recorder final : hw::virtio_iommu::MappingListener {
    std::vector<std::string> events;
    void on_map(hw::virtio_iommu::EndpointId ep, const hw::virtio_iommu::Mapping& m) override
    {
        events.push_back(fmt::format("map ep={:#x} {:#x}-{:#x}->{:#x}", ep, m.iova.first.value(), m.iova.last.value(), m.phys_start));
    }
    void on_unmap(hw::virtio_iommu::EndpointId ep, const hw::virtio_iommu::Mapping& m) override
    {
        events.push_back(fmt::format("unmap ep={:#x} {:#x}-{:#x}", ep, m.iova.first.value(), m.iova.last.value()));
    }
};
constexpr uint32_t R = VIRTIO_IOMMU_MAP_F_READ;
} // namespace

TEST_CASE("a listener sees MAP and UNMAP in its endpoint's domain", "[unit][virtio-iommu][listener]")
{
    IommuGuest g;
    Recorder r;
    g.device.set_listener(hw::virtio_iommu::EndpointId(8), &r);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.unmap(1, 0, 0xffff) == VIRTIO_IOMMU_S_OK);
    CHECK(r.events == std::vector<std::string>{"map ep=0x8 0x1000-0x1fff->0x40000000", "unmap ep=0x8 0x1000-0x1fff"});
}

TEST_CASE("a new listener is replayed the mappings its endpoint can already reach", "[unit][virtio-iommu][listener]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x3000, 0x3fff, 0x40002000, R) == VIRTIO_IOMMU_S_OK);
    Recorder r;
    g.device.set_listener(hw::virtio_iommu::EndpointId(8), &r);
    CHECK(r.events == std::vector<std::string>{"map ep=0x8 0x1000-0x1fff->0x40000000",
                                               "map ep=0x8 0x3000-0x3fff->0x40002000"});
}

TEST_CASE("DETACH and the domain's end unmap everything for the listener", "[unit][virtio-iommu][listener]")
{
    IommuGuest g;
    Recorder r;
    g.device.set_listener(hw::virtio_iommu::EndpointId(8), &r);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.detach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(r.events.back() == "unmap ep=0x8 0x1000-0x1fff");
}

TEST_CASE("ATTACH to a populated domain maps its mappings for the listener", "[unit][virtio-iommu][listener]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    Recorder r;
    g.device.set_listener(hw::virtio_iommu::EndpointId(8), &r);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(r.events == std::vector<std::string>{"map ep=0x8 0x1000-0x1fff->0x40000000"});
}

TEST_CASE("a device reset unmaps everything for the listener", "[unit][virtio-iommu][listener]")
{
    IommuGuest g;
    Recorder r;
    g.device.set_listener(hw::virtio_iommu::EndpointId(8), &r);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.bring_up());
    CHECK(r.events.back() == "unmap ep=0x8 0x1000-0x1fff");
}

TEST_CASE("a listener of another endpoint sees nothing", "[unit][virtio-iommu][listener]")
{
    IommuGuest g;
    Recorder r;
    g.device.set_listener(hw::virtio_iommu::EndpointId(0x10), &r);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    CHECK(r.events.empty());
}
