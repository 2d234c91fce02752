// The guest's virtio-pci modern driver against the device side of virtio-pci (virtio/pci_transport.h)
// on a board slot: probe, the capability walk, feature negotiation, queues and interrupts, one rule
// per TEST_CASE (Linux's virtio_pci_modern.c, virtio_pci_modern_dev.c, virtio_pci_common.c).
#include <catch2/catch.hpp>

#include <map>

#include "guest-model/virtio-drivers/pci_modern_driver.h"
#include "system/machine/pci_slot.h"
#include "tests/support/behaviour.h"
#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "tests/support/pci_fixture.h"
#include "virtio/wire/pci_regs.h"

using namespace viommu;
using namespace viommu::guest::virtio_drivers;
using viommu::system::machine::PciSlot;

namespace {

constexpr uint64_t kBarBase = 0xfe00'0000;

// A function whose configuration space reads as the slot's, except for bytes a test patches: how a
// test shows the driver a function QEMU would not build.
class PatchedFunction final : public PciFunction {
public:
    explicit PatchedFunction(PciSlot& slot) : slot_(slot) {}
    void patch8(uint32_t offset, uint8_t value) { bytes_[offset] = value; }
    void patch32(uint32_t offset, uint32_t value)
    {
        for (unsigned i = 0; i < 4; ++i)
            patch8(offset + i, static_cast<uint8_t>(value >> (8 * i)));
    }

    uint32_t config_read(uint32_t offset, unsigned size) override
    {
        uint32_t value = slot_.config_read(offset, size);
        for (unsigned i = 0; i < size; ++i)
            if (auto it = bytes_.find(offset + i); it != bytes_.end())
                value = (value & ~(0xffu << (8 * i))) | (uint32_t{it->second} << (8 * i));
        return value;
    }
    void config_write(uint32_t offset, unsigned size, uint32_t value) override { slot_.config_write(offset, size, value); }
    MmioRegion& memory_space() override { return slot_.memory_space(); }
    IrqWire& intx() override { return slot_.intx(); }
    std::optional<MsiMessage> alloc_msi(std::function<void()> handler) override { return slot_.alloc_msi(std::move(handler)); }
    void free_msi() override { slot_.free_msi(); }

private:
    PciSlot& slot_;
    std::map<uint32_t, uint8_t> bytes_;
};

// A guest with the echo device behind virtio-pci in a board slot, and its virtio-pci driver.
struct PciGuest {
    explicit PciGuest(uint16_t msix_vectors = 0, VirtioPciBehaviour behaviour = {})
        : mem(test::make_ram()), alloc(GuestAddr(test::kRamBase), test::kRamSize), device(mem),
          slot(device, io.get_executor(), test::echo_identity(msix_vectors), kBarBase), function(slot),
          driver({function, mem, alloc, io.get_executor(), cpu}, behaviour)
    {
        // The echo device's virtio ID (0x7ffe, unassigned) puts its PCI device ID outside the range
        // virtio_pci owns; the function shows the last ID of that range instead (virtio ID 63).
        function.patch8(virtio::pci::kDeviceId, kEchoPciDeviceId & 0xff);
        function.patch8(virtio::pci::kDeviceId + 1, kEchoPciDeviceId >> 8);
    }
    static constexpr uint16_t kEchoPciDeviceId = 0x107f;

    // virtio_dev_probe(): reset, ACKNOWLEDGE, DRIVER, every offered feature the ring takes, queue 0.
    Expected<void, std::string> bring_up()
    {
        if (auto ok = driver.probe(); !ok)
            return ok;
        driver.reset();
        driver.add_status(virtio::status::kAcknowledge);
        driver.add_status(virtio::status::kDriver);
        const virtio::FeatureBits ring = virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFIndirectDesc) |
                                         virtio::feature(virtio::kFEventIdx);
        if (auto ok = driver.finalize_features(driver.device_features() & ring); !ok)
            return ok;
        const VqRequest queues[] = {{0, [this] { ++callbacks; }}};
        if (auto ok = driver.find_vqs(queues); !ok)
            return ok;
        driver.driver_ok();
        return {};
    }

    // One 4-byte request through queue 0; the echo device answers it XORed.
    uint32_t round_trip(uint32_t request)
    {
        const GuestAddr out = *alloc.alloc(4096);
        const GuestAddr in = *alloc.alloc(4096);
        REQUIRE(mem.write_obj(out, request));
        const Buf o{out, 4}, i{in, 4};
        REQUIRE(driver.vq(0)->add(std::span(&o, 1), std::span(&i, 1), 1));
        driver.kick(0);
        driver.wait_idle();
        const auto used = driver.vq(0)->get_buf();
        REQUIRE(used);
        CHECK(used->len == 4);
        return *mem.read_obj<uint32_t>(in);
    }

    boost::asio::io_context io;
    test::PollingCpu cpu{io};
    virtio::GuestMemory mem;
    guest::mm::PhysAllocator alloc;
    test::EchoDevice device;
    PciSlot slot;
    PatchedFunction function;
    VirtioPciModernDriver driver;
    int callbacks = 0;
};

// Why probe refused the function ("" if it did not).
std::string probe_refusal(PciGuest& g)
{
    auto ok = g.driver.probe();
    return ok ? std::string() : ok.error();
}

constexpr uint32_t kEchoed = 0x12345678u ^ 0x5a5a5a5au;

} // namespace

TEST_CASE("probe refuses a function whose vendor is not Red Hat/Qumranet's 0x1af4", "[unit][virtio-pci]")
{
    PciGuest g;
    g.function.patch8(virtio::pci::kVendorId, 0x86);
    g.function.patch8(virtio::pci::kVendorId + 1, 0x80);
    CHECK(probe_refusal(g) == "not a virtio function (vendor 0x8086)");
}

TEST_CASE("probe leaves a virtio device ID outside 0x1000-0x107f to other drivers", "[unit][virtio-pci]")
{
    PciGuest g;
    g.function.patch8(virtio::pci::kDeviceId, 0x80);
    g.function.patch8(virtio::pci::kDeviceId + 1, 0x10);
    CHECK(probe_refusal(g) == "not a virtio function (device 0x1080)");
}

TEST_CASE("a function without a common configuration capability is left for the legacy driver", "[unit][virtio-pci]")
{
    PciGuest g;
    // No capability list at all, as a legacy virtio-pci function (device 0x1000) has.
    g.function.patch8(virtio::pci::kStatus, 0);
    g.function.patch8(virtio::pci::kDeviceId, 0x00);
    g.function.patch8(virtio::pci::kDeviceId + 1, 0x10);
    CHECK(probe_refusal(g) == "virtio_pci: leaving for legacy driver");
}

TEST_CASE("a transitional device's virtio ID is its subsystem ID, a modern one's 0x1040 less its device ID",
          "[unit][virtio-pci]")
{
    PciGuest modern;
    REQUIRE(modern.driver.probe());
    CHECK(modern.driver.device_id() == 0x107f - 0x1040);

    PciGuest transitional;
    transitional.function.patch8(virtio::pci::kDeviceId, 0x02);
    transitional.function.patch8(virtio::pci::kDeviceId + 1, 0x10);
    REQUIRE(transitional.driver.probe());
    CHECK(transitional.driver.device_id() == 0x1100); // QEMU's default subsystem ID
}

TEST_CASE("a capability on a BAR the function does not implement is skipped", "[unit][virtio-pci]")
{
    PciGuest g;
    const uint8_t common = 0x40; // QEMU's first capability: the common configuration
    REQUIRE(g.function.config_read(common + virtio::pci::kCapCfgType, 1) == virtio::pci::kCapCommonCfg);
    g.function.patch8(common + virtio::pci::kCapBar, 2); // BAR 2 is not implemented
    CHECK(probe_refusal(g) == "virtio_pci: leaving for legacy driver");
}

TEST_CASE("the capability walk refuses a structure that runs past the end of its BAR", "[unit][virtio-pci]")
{
    PciGuest g;
    const uint8_t common = 0x40;
    g.function.patch32(common + virtio::pci::kCapOffset, 0x3ff0); // 0x38 bytes from 0x3ff0 > 16 KiB
    CHECK(probe_refusal(g) == "virtio_pci: map virtio 56@16368 out of range on bar 4 length 16384");
}

TEST_CASE("the capability walk refuses a structure shorter than the driver needs", "[unit][virtio-pci]")
{
    PciGuest g;
    const uint8_t common = 0x40;
    g.function.patch32(common + virtio::pci::kCapLength, 0x10);
    CHECK(probe_refusal(g) == "virtio_pci: bad capability len 16 (>=56 expected)");
}

TEST_CASE("the capability walk refuses a structure offset that wraps around", "[unit][virtio-pci]")
{
    PciGuest g;
    const uint8_t common = 0x40;
    g.function.patch32(common + virtio::pci::kCapOffset, 0xffff'fffc);
    CHECK(probe_refusal(g) == "virtio_pci: map virtio 56@4294967292 out of range on bar 4 length 16384");
}

TEST_CASE("a function without an ISR or notify capability is refused", "[unit][virtio-pci]")
{
    PciGuest g;
    const uint8_t isr = 0x50;
    REQUIRE(g.function.config_read(isr + virtio::pci::kCapCfgType, 1) == virtio::pci::kCapIsrCfg);
    g.function.patch8(isr + virtio::pci::kCapCfgType, 0x7f); // a type no driver knows
    CHECK(probe_refusal(g) == "virtio_pci: missing capabilities 64/0/112");
}

TEST_CASE("virtio_pci takes VIRTIO_F_RING_RESET from the device when its release supports it", "[unit][virtio-pci]")
{
    PciGuest with({}, VirtioPciBehaviour{true, {}});
    REQUIRE(with.bring_up());
    CHECK((with.driver.negotiated() & virtio::feature(virtio::kFRingReset)) != 0);

    PciGuest without({}, VirtioPciBehaviour{false, {}});
    REQUIRE(without.bring_up());
    CHECK((without.driver.negotiated() & virtio::feature(virtio::kFRingReset)) == 0);
    CHECK((without.driver.negotiated() & virtio::feature(virtio::kFVersion1)) != 0);
}

TEST_CASE("virtio_pci accepts VIRTIO_F_RING_RESET from 6.0 (04ca0b0b16f1)", "[unit][virtio-pci][profiles]")
{
    using test::resolve_behaviour;
    CHECK_FALSE(resolve_behaviour<VirtioPciBehaviour>("5.19").ring_reset);
    CHECK(resolve_behaviour<VirtioPciBehaviour>("6.0").ring_reset);
    CHECK(resolve_behaviour<VirtioPciBehaviour>("6.1").ring_reset);
    CHECK(resolve_behaviour<VirtioPciBehaviour>("debian-12-6.12").ring_reset);
}

TEST_CASE("virtio_ring keeps VIRTIO_F_RING_PACKED from 5.0 (1ce9e6055fa0)", "[unit][virtio-pci][profiles]")
{
    using test::resolve_behaviour;
    CHECK_FALSE(resolve_behaviour<VirtioRingBehaviour>("4.19").packed_ring);
    CHECK(resolve_behaviour<VirtioRingBehaviour>("5.0").packed_ring);
    CHECK(resolve_behaviour<VirtioRingBehaviour>("debian-12-6.12").packed_ring);
    CHECK_FALSE(resolve_behaviour<VirtioPciBehaviour>("4.19").ring.packed_ring);
    CHECK(resolve_behaviour<VirtioPciBehaviour>("6.1").ring.packed_ring);
}

TEST_CASE("ring_transport_features() drops VIRTIO_F_RING_PACKED only for a ring code without it", "[unit][virtio-pci]")
{
    const virtio::FeatureBits f = virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFRingPacked);
    CHECK(ring_transport_features(f, VirtioRingBehaviour{true}) == f);
    CHECK(ring_transport_features(f, VirtioRingBehaviour{false}) == virtio::feature(virtio::kFVersion1));
}

TEST_CASE("a device without VIRTIO_F_VERSION_1 is refused by the modern driver", "[unit][virtio-pci]")
{
    PciGuest g;
    REQUIRE(g.driver.probe());
    g.driver.reset();
    g.driver.add_status(virtio::status::kAcknowledge | virtio::status::kDriver);
    (void)g.driver.device_features();
    auto ok = g.driver.finalize_features(virtio::feature(virtio::kFEventIdx));
    REQUIRE_FALSE(ok);
    CHECK(ok.error() == "virtio: device uses modern interface but does not have VIRTIO_F_VERSION_1");
}

TEST_CASE("without MSI-X the queues take INTx, and a request round trips", "[unit][virtio-pci]")
{
    PciGuest g(0);
    REQUIRE(g.bring_up());
    CHECK(g.driver.irq_mode() == VirtioPciIrqMode::kIntx);
    CHECK(g.round_trip(0x12345678) == kEchoed);
    CHECK(g.callbacks == 1);
    CHECK(g.driver.interrupts_taken() == 1);
    CHECK_FALSE(g.slot.transport().intx_level()); // reading the ISR status lowered the line
}

TEST_CASE("with MSI-X each queue with a callback gets its own vector, and a request round trips", "[unit][virtio-pci]")
{
    PciGuest g(2);
    REQUIRE(g.bring_up());
    CHECK(g.driver.irq_mode() == VirtioPciIrqMode::kMsixPerVq);
    CHECK(g.round_trip(0x12345678) == kEchoed);
    CHECK(g.callbacks == 1);
    CHECK(g.driver.interrupts_taken() == 1);
    CHECK_FALSE(g.slot.transport().intx_level());
}

TEST_CASE("an MSI-X table too small for the vectors asked falls back to INTx", "[unit][virtio-pci]")
{
    PciGuest g(1); // one vector: neither config + per queue nor config + shared fits
    REQUIRE(g.bring_up());
    CHECK(g.driver.irq_mode() == VirtioPciIrqMode::kIntx);
    CHECK(g.round_trip(0x12345678) == kEchoed);
    CHECK(g.callbacks == 1);
}

TEST_CASE("a function with neither MSI-X nor an interrupt pin gets no queues", "[unit][virtio-pci]")
{
    PciGuest g(0);
    g.function.patch8(virtio::pci::kInterruptPin, 0);
    CHECK_FALSE(g.bring_up());
    CHECK(g.driver.vq(0) == nullptr);
}

TEST_CASE("queues are enabled only once all are set up, at the notify address of queue_notify_off",
          "[unit][virtio-pci]")
{
    PciGuest g(0);
    REQUIRE(g.bring_up());
    MmioRegion& bar = *g.slot.transport().bar(virtio::PciTransport::kModernBar);
    bar.write(virtio::pci::kQueueSelect, 2, 0);
    CHECK(bar.read(virtio::pci::kQueueEnable, 2) == 1);
    CHECK(bar.read(virtio::pci::kQueueDesc, 8) == g.driver.vq(0)->desc_addr().value());
    CHECK(bar.read(virtio::pci::kQueueDevice, 8) == g.driver.vq(0)->device_area().value());
    const uint64_t before = g.device.notifies;
    g.driver.notify(0);
    g.driver.wait_idle();
    CHECK(g.device.notifies == before + 1);
}

TEST_CASE("configuration reads go through the device structure with the generation check", "[unit][virtio-pci]")
{
    PciGuest g(0);
    REQUIRE(g.bring_up());
    g.device.config[3] = 0xab;
    CHECK(g.driver.config_read(3, 1) == 0xab);
    g.driver.config_write(4, 4, 0x01020304);
    CHECK(g.device.config[4] == 0x04);
    CHECK(g.driver.config_read(0, 8) == (uint64_t{0x01020304} << 32 | 0xab000000));
}
