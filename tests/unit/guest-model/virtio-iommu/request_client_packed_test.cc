// The request client over packed rings: a virtio-iommu with packed=on driven by the guest's virtio-mmio
// driver, which takes VIRTIO_F_RING_PACKED as Linux's ring code does from 5.0 (1ce9e6055fa0).
#include <catch2/catch.hpp>

#include <linux/virtio_iommu.h>

#include "guest-model/virtio-drivers/mmio_driver.h"
#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;
namespace vd = viommu::guest::virtio_drivers;

namespace {

struct Answers {
    std::optional<uint8_t> attach, map, bad_map;
    std::optional<guest::virtio_iommu::IommuReply> probe;
};

Answers ask(IommuGuest& g)
{
    Answers a;
    a.attach = g.client.attach(1, 8);
    a.map = g.client.map(1, 0x10000, 0x1ffff, 0x4000'0000, VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE);
    a.bad_map = g.client.map(7, 0x10000, 0x1ffff, 0x4000'0000, VIRTIO_IOMMU_MAP_F_READ); // no such domain
    a.probe = g.client.probe(8);
    return a;
}

hw::virtio_iommu::IommuConfig packed_config(bool packed)
{
    auto c = test_config();
    c.packed = packed;
    return c;
}

} // namespace

TEST_CASE("with packed=on the driver negotiates RING_PACKED and ATTACH, MAP, PROBE answer as on split rings", "[guest][virtio-iommu][2.8]")
{
    IommuGuest split(packed_config(false));
    IommuGuest packed(packed_config(true));
    CHECK_FALSE((split.device.driver_features() & virtio::feature(virtio::kFRingPacked)));
    REQUIRE((packed.device.driver_features() & virtio::feature(virtio::kFRingPacked)));
    REQUIRE(packed.client.driver().vq(0)->packed());

    const Answers s = ask(split);
    const Answers p = ask(packed);
    CHECK(p.attach == VIRTIO_IOMMU_S_OK);
    CHECK(p.map == VIRTIO_IOMMU_S_OK);
    CHECK(p.bad_map == VIRTIO_IOMMU_S_NOENT);
    CHECK(p.attach == s.attach);
    CHECK(p.map == s.map);
    CHECK(p.bad_map == s.bad_map);
    REQUIRE(p.probe);
    REQUIRE(s.probe);
    CHECK(p.probe->used_len == s.probe->used_len);
    CHECK(p.probe->written == s.probe->written);
    CHECK_FALSE(packed.needs_reset());
    CHECK_FALSE(packed.client.driver().vq(0)->broken());
}

TEST_CASE("many requests wrap the packed request queue and its ids", "[guest][virtio-iommu][2.8.1]")
{
    IommuGuest g(packed_config(true));
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    // Each MAP takes two descriptors (or one through an indirect table): far more than the ring holds.
    for (uint64_t i = 0; i < 600; ++i)
        REQUIRE(g.client.map(1, i << 12, (i << 12) + 0xfff, 0x4000'0000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.driver().vq(0)->num_free() == g.client.driver().vq(0)->size());
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("a driver before 5.0 keeps split rings when packed=on", "[guest][virtio-iommu][2.8]")
{
    // Before 1ce9e6055fa0 vring_transport_features() cleared RING_PACKED.
    system::machine::Machine machine;
    auto& device = machine.add_device<hw::virtio_iommu::VirtioIommu>(packed_config(true));
    vd::VirtioMmioDriver driver(machine.handle(0), vd::VirtioRingBehaviour{false});
    guest::virtio_iommu::IommuRequestClient client(driver);
    REQUIRE(client.bring_up());
    CHECK_FALSE((device.driver_features() & virtio::feature(virtio::kFRingPacked)));
    CHECK_FALSE(driver.vq(0)->packed());
    CHECK(client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
}
