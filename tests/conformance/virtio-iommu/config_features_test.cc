// §5.13.1-§5.13.5: identity, queues, features and configuration (QEMU's qtest checks the same).
#include <catch2/catch.hpp>

#include "tests/support/iommu_fixture.h"
#include "virtio/wire/mmio_regs.h"

using namespace viommu;
using namespace viommu::test;

TEST_CASE("the device is virtio device 23 with a request and an event queue", "[conformance][virtio-iommu][5.13.1]")
{
    IommuGuest g(test_config(), {}, false);
    auto& t = *g.machine.slot(0).transport;
    CHECK(t.read(virtio::mmio::kDeviceId, 4) == 23);
    for (uint32_t q : {0u, 1u}) {
        t.write(virtio::mmio::kQueueSel, 4, q);
        CHECK(t.read(virtio::mmio::kQueueNumMax, 4) == 256);
    }
    t.write(virtio::mmio::kQueueSel, 4, 2);
    CHECK(t.read(virtio::mmio::kQueueNumMax, 4) == 0);
}

TEST_CASE("the default features are QEMU's", "[conformance][virtio-iommu][5.13.3]")
{
    IommuGuest g(test_config(), {}, false);
    const auto f = g.client.driver().device_features();
    for (unsigned bit : std::initializer_list<unsigned>{VIRTIO_IOMMU_F_INPUT_RANGE, VIRTIO_IOMMU_F_DOMAIN_RANGE, VIRTIO_IOMMU_F_MAP_UNMAP,
                         VIRTIO_IOMMU_F_PROBE, VIRTIO_IOMMU_F_MMIO, VIRTIO_IOMMU_F_BYPASS_CONFIG, 28u, 29u, 32u, 40u})
        CHECK((f & virtio::feature(bit)));
    // §5.13.3.2: "New devices SHOULD NOT offer VIRTIO_IOMMU_F_BYPASS."
    CHECK_FALSE((f & virtio::feature(VIRTIO_IOMMU_F_BYPASS)));
}

TEST_CASE("packed=on offers VIRTIO_F_RING_PACKED, which QEMU's default (off) does not", "[conformance][virtio-iommu][2.8]")
{
    IommuGuest plain(test_config(), {}, false);
    CHECK_FALSE((plain.client.driver().device_features() & virtio::feature(virtio::kFRingPacked)));
    auto c = test_config();
    c.packed = true;
    IommuGuest packed(c, {}, false);
    CHECK((packed.client.driver().device_features() & virtio::feature(virtio::kFRingPacked)));
}

TEST_CASE("a driver from 5.0 on takes RING_PACKED when packed=on", "[conformance][virtio-iommu][2.8]")
{
    // Linux's ring code keeps RING_PACKED since 1ce9e6055fa0 (v5.0); the request client's driver is such
    // a release's. Before it the driver kept split rings (request_client_packed_test.cc).
    auto c = test_config();
    c.packed = true;
    IommuGuest g(c);
    CHECK((g.device.driver_features() & virtio::feature(virtio::kFRingPacked)));
    CHECK(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("the legacy F_BYPASS replaces BYPASS_CONFIG, never beside it", "[conformance][virtio-iommu][5.13.3.2]")
{
    auto c = test_config();
    c.legacy_bypass = true;
    IommuGuest g(c, {}, false);
    const auto f = g.client.driver().device_features();
    CHECK((f & virtio::feature(VIRTIO_IOMMU_F_BYPASS)));
    CHECK_FALSE((f & virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG)));
}

TEST_CASE("withheld features are not offered", "[conformance][virtio-iommu][5.13.3]")
{
    auto c = test_config();
    c.withheld = virtio::feature(VIRTIO_IOMMU_F_MMIO) | virtio::feature(virtio::kFEventIdx);
    IommuGuest g(c, {}, false);
    const auto f = g.client.driver().device_features();
    CHECK_FALSE((f & virtio::feature(VIRTIO_IOMMU_F_MMIO)));
    CHECK_FALSE((f & virtio::feature(virtio::kFEventIdx)));
}

TEST_CASE("the configuration shows page_size_mask, input_range, domain_range, probe_size and bypass",
          "[conformance][virtio-iommu][5.13.4]")
{
    auto c = test_config();
    c.page_size_mask = ~uint64_t{0xffff}; // 64 KiB granule
    c.input_end = (1ull << 48) - 1;
    c.domain_start = 1;
    c.domain_end = 1023;
    c.boot_bypass = false;
    IommuGuest g(c);
    const auto cfg = g.client.read_config();
    CHECK(cfg.page_size_mask == ~uint64_t{0xffff});
    CHECK(cfg.input_range.start == 0);
    CHECK(cfg.input_range.end == (1ull << 48) - 1);
    CHECK(cfg.domain_range.start == 1);
    CHECK(cfg.domain_range.end == 1023);
    CHECK(cfg.probe_size == 512);
    CHECK(cfg.bypass == 0);
}

TEST_CASE("QEMU 7.2's configuration: 4 KiB pages, 64-bit input, 32-bit domains, 512-byte probe, bypass on",
          "[conformance][virtio-iommu][qemu]")
{
    // From QEMU 7.2's trace of a q35 guest: virtio_iommu_get_config page_size_mask=0xfffffffffffff000
    // input range start=0x0 input range end=0xffffffffffffffff domain range start=0 domain range end=-1
    // probe_size=0x200 bypass=0x1.
    IommuGuest g(hw::virtio_iommu::IommuConfig{});
    const auto cfg = g.client.read_config();
    CHECK(cfg.page_size_mask == 0xfffffffffffff000);
    CHECK(cfg.input_range.end == 0xffffffffffffffff);
    CHECK(cfg.domain_range.end == 0xffffffff);
    CHECK(cfg.probe_size == 0x200);
    CHECK(cfg.bypass == 1);
}

TEST_CASE("the driver can write only bypass: other configuration writes are ignored", "[conformance][virtio-iommu][5.13.4.1]")
{
    IommuGuest g;
    g.client.driver().config_write(offsetof(virtio_iommu_config, probe_size), 4, 4096);
    g.client.driver().config_write(0, 4, 0);
    CHECK(g.client.read_config().probe_size == 512);
    CHECK(g.client.read_config().page_size_mask == 0xfffffffffffff000);
}

TEST_CASE("an invalid device configuration is refused at construction", "[unit][virtio-iommu]")
{
    hw::virtio_iommu::IommuConfig c;
    c.page_size_mask = 0;
    virtio::GuestMemory mem = std::move(*virtio::GuestMemory::create({{GuestAddr(0), 4096}}));
    CHECK_THROWS_AS(hw::virtio_iommu::VirtioIommu(mem, c), std::invalid_argument);
    c = {};
    c.input_start = 10;
    c.input_end = 5;
    CHECK_THROWS_AS(hw::virtio_iommu::VirtioIommu(mem, c), std::invalid_argument);
}
