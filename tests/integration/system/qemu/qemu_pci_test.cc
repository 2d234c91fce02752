// QEMU 7.2's virtio-iommu-pci through qtest: its PCI function driven through the same PciFunction a
// guest-side driver uses, and how a notification and its interrupt look from the driver's side.
#include <catch2/catch.hpp>

#include "hw/virtio-iommu/wire.h"
#include "system/qemu/q35_layout.h"
#include "system/qemu/qtest_pci.h"
#include "system/qemu/qtest_wait.h"
#include "tests/integration/system/qemu/qemu_fixture.h"
#include "virtio/feature_bits.h"
#include "virtio/wire/ring.h"

using namespace viommu;
using namespace viommu::system::qemu;
using namespace viommu::system::qemu::testing;
namespace iommu_wire = viommu::hw::virtio_iommu::wire;

namespace {

const PciAddress kViommu(0, 0, 2 << 3);  // 00:02.0
constexpr uint32_t kEndpointId = 3 << 3; // 00:03.0: its requester ID is the endpoint ID

// virtio v1.2 §4.1.4.3, struct virtio_pci_common_cfg.
constexpr uint64_t kDeviceFeatureSelect = 0x00;
constexpr uint64_t kDeviceFeature = 0x04;
constexpr uint64_t kDriverFeatureSelect = 0x08;
constexpr uint64_t kDriverFeature = 0x0c;
constexpr uint64_t kDeviceStatus = 0x14;
constexpr uint64_t kQueueSelect = 0x16;
constexpr uint64_t kQueueSize = 0x18;
constexpr uint64_t kQueueEnable = 0x1c;
constexpr uint64_t kQueueNotifyOff = 0x1e;
constexpr uint64_t kQueueDesc = 0x20;
constexpr uint64_t kQueueDriver = 0x28;
constexpr uint64_t kQueueDevice = 0x30;
// QEMU's modern layout in BAR 4 (hw/virtio/virtio-pci.c, virtio_pci_realize()): common configuration at
// 0, ISR status (§4.1.4.5) at 0x1000, device configuration at 0x2000, notifications at 0x3000 with a
// notify_off_multiplier of 4.
constexpr unsigned kModernBar = 4;
constexpr uint64_t kIsr = 0x1000;
constexpr uint64_t kNotify = 0x3000;
constexpr uint64_t kNotifyOffMultiplier = 4;

} // namespace

TEST_CASE("QEMU starts stopped, and the virtio-iommu-pci at 00:02.0 answers vendor 0x1af4, device 0x1057",
          "[integration][qemu]")
{
    auto qemu = start_qemu();
    QtestPciBus bus(qemu->qtest());
    // §4.1.2: a modern-only device's PCI device ID is 0x1040 + 23, the virtio-iommu device ID.
    CHECK(*bus.config_read(kViommu, virtio::pci::kVendorId, 4) == 0x10571af4);
    // No function at 00:1f.7 (q35 has none there): all ones, as after a master abort.
    CHECK(*bus.config_read(PciAddress(0, 0, (0x1f << 3) | 7), virtio::pci::kVendorId, 4) == 0xffffffff);
}

TEST_CASE("BARs size and assign as firmware would, in q35's PCI window, with memory and bus master on",
          "[integration][qemu]")
{
    auto qemu = start_qemu();
    QtestPciBus bus(qemu->qtest());
    auto function = bus.enable(kViommu);
    INFO((function ? std::string() : function.error()));
    REQUIRE(function);
    const auto& bars = (*function)->bars();
    // QEMU 7.2's virtio-iommu-pci: no legacy I/O BAR (modern-only), no MSI-X BAR (it has no vectors by
    // default), and BAR 4 as virtio_pci_realize() makes it: 16 KiB of 64-bit prefetchable memory.
    for (unsigned i : {0u, 1u, 2u, 3u})
        CHECK(bars[i].size == 0);
    CHECK(bars[kModernBar].size == 0x4000);
    CHECK(bars[kModernBar].is_64bit);
    CHECK(bars[kModernBar].prefetchable);
    REQUIRE(bars[kModernBar].address);
    const uint64_t base = *bars[kModernBar].address;
    CHECK(base >= q35::kPciMemoryWindowBase);
    CHECK(base + 0x4000 <= q35::kPciMemoryWindowEnd);
    CHECK(base % 0x4000 == 0);
    QtestPciFunction& pci = **function;
    CHECK((pci.config_read(virtio::pci::kBar0 + 4 * kModernBar, 4) & ~0xfu) == static_cast<uint32_t>(base));
    CHECK(pci.config_read(virtio::pci::kBar0 + 4 * kModernBar + 4, 4) == static_cast<uint32_t>(base >> 32));
    CHECK((pci.config_read(virtio::pci::kCommand, 2) & 0x6) == 0x6);
    CHECK(pci.bar(kModernBar) != nullptr);
    CHECK(pci.bar(0) == nullptr);
    CHECK_FALSE(qemu->qtest().failure());
}

TEST_CASE("through BAR 4 the common configuration offers QEMU 7.2's virtio-iommu-pci features",
          "[integration][qemu]")
{
    auto qemu = start_qemu();
    QtestPciBus bus(qemu->qtest());
    auto function = bus.enable(kViommu);
    REQUIRE(function);
    MmioRegion& common = *(*function)->bar(kModernBar);
    common.write(kDeviceFeatureSelect, 4, 0);
    const uint64_t low = common.read(kDeviceFeature, 4);
    common.write(kDeviceFeatureSelect, 4, 1);
    const uint64_t features = low | common.read(kDeviceFeature, 4) << 32;
    using namespace iommu_wire;
    using virtio::feature;
    // virtio_iommu_device_realize() (hw/virtio/virtio-iommu.c, v7.2.0) offers EVENT_IDX, INDIRECT_DESC,
    // VERSION_1, INPUT_RANGE, DOMAIN_RANGE, MAP_UNMAP, MMIO, PROBE and BYPASS_CONFIG; not BYPASS, which
    // BYPASS_CONFIG replaced in QEMU 7.0. virtio's common properties (DEFINE_VIRTIO_COMMON_FEATURES,
    // include/hw/virtio/virtio.h) add RING_RESET ("queue_reset", on by default since 7.2). The legacy-only
    // bits NOTIFY_ON_EMPTY and ANY_LAYOUT are hidden from a modern driver (virtio_pci_common_read() masks
    // VIRTIO_LEGACY_FEATURES).
    constexpr uint64_t kQemu72Features = feature(kFInputRange) | feature(kFDomainRange) | feature(kFMapUnmap) |
                                         feature(kFProbe) | feature(kFMmio) | feature(kFBypassConfig) |
                                         feature(virtio::kFIndirectDesc) | feature(virtio::kFEventIdx) |
                                         feature(virtio::kFVersion1) | feature(virtio::kFRingReset);
    CHECK(features == 0x0000010130000077);
    CHECK(features == kQemu72Features);
    CHECK_FALSE(qemu->qtest().failure());
}

TEST_CASE("a notification is processed within its qtest write: the used ring is filled and INTx raised "
          "before the write returns",
          "[integration][qemu]")
{
    auto qemu = start_qemu();
    QtestClient& qtest = qemu->qtest();
    REQUIRE(qtest.irq_intercept_in("ioapic"));
    QtestPciBus bus(qtest);
    auto function = bus.enable(kViommu);
    REQUIRE(function);
    MmioRegion& bar = *(*function)->bar(kModernBar);
    virtio::GuestMemory& ram = qemu->memory();

    // §3.1.1 driver initialization, request queue only.
    bar.write(kDeviceStatus, 1, virtio::status::kAcknowledge);
    bar.write(kDeviceStatus, 1, virtio::status::kAcknowledge | virtio::status::kDriver);
    bar.write(kDriverFeatureSelect, 4, 0);
    bar.write(kDriverFeature, 4, virtio::feature(iommu_wire::kFMapUnmap));
    bar.write(kDriverFeatureSelect, 4, 1);
    bar.write(kDriverFeature, 4, virtio::feature(virtio::kFVersion1) >> 32);
    const uint8_t features_ok = virtio::status::kAcknowledge | virtio::status::kDriver | virtio::status::kFeaturesOk;
    bar.write(kDeviceStatus, 1, features_ok);
    REQUIRE(bar.read(kDeviceStatus, 1) == features_ok);
    constexpr uint16_t kSize = 8;
    constexpr uint64_t kDesc = 0x10000, kAvail = 0x11000, kUsed = 0x12000, kRequest = 0x13000, kTail = 0x14000;
    bar.write(kQueueSelect, 2, iommu_wire::kRequestQueue);
    bar.write(kQueueSize, 2, kSize);
    bar.write(kQueueDesc, 8, kDesc);
    bar.write(kQueueDriver, 8, kAvail);
    bar.write(kQueueDevice, 8, kUsed);
    const uint64_t notify_off = bar.read(kQueueNotifyOff, 2);
    bar.write(kQueueEnable, 2, 1);
    bar.write(kDeviceStatus, 1, features_ok | virtio::status::kDriverOk);

    // One ATTACH of the endpoint at 00:03.0 to domain 1 (§5.13.6.3).
    iommu_wire::ReqAttach attach{};
    attach.head.type = iommu_wire::kTAttach;
    attach.domain = 1;
    attach.endpoint = kEndpointId;
    REQUIRE(ram.write_obj(GuestAddr(kRequest), attach));
    REQUIRE(ram.write_obj(GuestAddr(kTail), iommu_wire::ReqTail{0xff, {}}));
    virtio::wire::Desc chain[2]{};
    chain[0].addr = kRequest;
    chain[0].len = sizeof attach;
    chain[0].flags = virtio::wire::kDescFNext;
    chain[0].next = 1;
    chain[1].addr = kTail;
    chain[1].len = sizeof(iommu_wire::ReqTail);
    chain[1].flags = virtio::wire::kDescFWrite;
    REQUIRE(ram.write_obj(GuestAddr(kDesc), chain));
    REQUIRE(ram.write_obj(GuestAddr(kAvail + virtio::wire::avail_ring_entry_offset(0)), uint16_t{0}));
    REQUIRE(ram.write_obj(GuestAddr(kAvail), virtio::wire::AvailHeader{0, 1}));

    QtestWaitForEvent wait(qtest);
    CHECK_FALSE(wait.wait());
    const uint64_t events_before = qtest.irq_events();
    bar.write(kNotify + notify_off * kNotifyOffMultiplier, 2, iommu_wire::kRequestQueue);
    // No further request to QEMU: what the shared RAM holds now was written inside the notify write.
    const auto used = *ram.read_obj<virtio::wire::UsedHeader>(GuestAddr(kUsed));
    CHECK(uint16_t{used.idx} == 1);
    CHECK(ram.read_obj<iommu_wire::ReqTail>(GuestAddr(kTail))->status == 0); // VIRTIO_IOMMU_S_OK
    // INTA of slot 2 reaches the I/O APIC as GSI 22 (observed with QEMU 7.2's q35 and its chipset's
    // reset-time INTx routing), and its "IRQ raise" line came in ahead of the write's "OK".
    CHECK(qtest.irq_events() == events_before + 1);
    CHECK(qtest.irq_level(22));
    CHECK(wait.wait());
    // Reading the ISR acknowledges the interrupt and lowers the line (§4.1.4.5.1).
    CHECK(bar.read(kIsr, 1) == 1);
    CHECK_FALSE(qtest.irq_level(22));
    CHECK(bar.read(kIsr, 1) == 0);
    CHECK_FALSE(qtest.failure());
}

