// The virtio-mmio version 2 register map (virtio v1.2 §4.2.2).
#include <catch2/catch.hpp>

#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "virtio/wire/mmio_regs.h"

using namespace viommu;
using namespace viommu::test;
namespace mmio = viommu::virtio::mmio;

TEST_CASE("the identification registers read magic, version 2, device and vendor", "[conformance][mmio][4.2.2]")
{
    Guest<EchoDevice> g;
    CHECK(g.transport.read(mmio::kMagicValue, 4) == 0x74726976);
    CHECK(g.transport.read(mmio::kVersion, 4) == 2);
    CHECK(g.transport.read(mmio::kDeviceId, 4) == EchoDevice::kDeviceId);
    CHECK(g.transport.read(mmio::kVendorId, 4) == virtio::MmioTransport::kQemuVendorId);
}

TEST_CASE("DeviceFeaturesSel selects 32-bit words of the features, 0 beyond bit 63", "[conformance][mmio][4.2.2]")
{
    Guest<EchoDevice> g;
    g.transport.write(mmio::kDeviceFeaturesSel, 4, 0);
    CHECK(g.transport.read(mmio::kDeviceFeatures, 4) == static_cast<uint32_t>(g.device.device_features()));
    g.transport.write(mmio::kDeviceFeaturesSel, 4, 1);
    CHECK(g.transport.read(mmio::kDeviceFeatures, 4) == (g.device.device_features() >> 32));
    g.transport.write(mmio::kDeviceFeaturesSel, 4, 2);
    CHECK(g.transport.read(mmio::kDeviceFeatures, 4) == 0);
}

TEST_CASE("QueueNumMax reads 0 for a queue that does not exist", "[conformance][mmio][4.2.2]")
{
    Guest<EchoDevice> g;
    g.transport.write(mmio::kQueueSel, 4, 0);
    CHECK(g.transport.read(mmio::kQueueNumMax, 4) == 256);
    g.transport.write(mmio::kQueueSel, 4, 1);
    CHECK(g.transport.read(mmio::kQueueNumMax, 4) == 0);
}

TEST_CASE("shared memory regions that do not exist read a length and base of -1", "[conformance][mmio][4.2.2]")
{
    Guest<EchoDevice> g;
    g.transport.write(mmio::kShmSel, 4, 0);
    CHECK(g.transport.read(mmio::kShmLenLow, 4) == 0xffffffff);
    CHECK(g.transport.read(mmio::kShmLenHigh, 4) == 0xffffffff);
    CHECK(g.transport.read(mmio::kShmBaseLow, 4) == 0xffffffff);
}

TEST_CASE("register accesses that are not 32-bit and aligned are ignored", "[conformance][mmio][4.2.2.2]")
{
    Guest<EchoDevice> g;
    CHECK(g.transport.read(mmio::kMagicValue, 2) == 0);
    CHECK(g.transport.read(mmio::kMagicValue + 1, 4) == 0);
    g.transport.write(mmio::kStatus, 1, 1);
    CHECK(g.status() == 0);
}

TEST_CASE("write-only registers read 0 and read-only registers ignore writes", "[conformance][mmio][4.2.2]")
{
    Guest<EchoDevice> g;
    CHECK(g.transport.read(mmio::kQueueNotify, 4) == 0);
    CHECK(g.transport.read(mmio::kQueueDescLow, 4) == 0);
    g.transport.write(mmio::kMagicValue, 4, 0);
    CHECK(g.transport.read(mmio::kMagicValue, 4) == 0x74726976);
    CHECK(g.transport.read(0x2000, 4) == 0); // outside the window
}

TEST_CASE("queue registers cannot change while the queue is ready", "[conformance][mmio][4.2.3.2]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    const GuestAddr desc = g.vq().desc_addr();
    g.transport.write(mmio::kQueueSel, 4, 0);
    g.transport.write(mmio::kQueueDescLow, 4, 0);
    g.transport.write(mmio::kQueueNum, 4, 4);
    CHECK(g.device.queue_slot(0)->desc == desc);
    CHECK(g.device.queue_slot(0)->size == 256);
}

TEST_CASE("QueueNotify is handled on the device's executor, not inside the register write", "[unit][mmio]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    const GuestAddr out = *g.alloc.alloc(8), in = *g.alloc.alloc(8);
    const guest::virtio_drivers::Buf o{out, 8}, i{in, 8};
    REQUIRE(g.vq().add(std::span(&o, 1), std::span(&i, 1), 1));
    g.driver.notify(0);
    CHECK(g.device.chains == 0);
    g.run();
    CHECK(g.device.chains == 1);
}

TEST_CASE("a notification for a queue that does not exist is ignored", "[conformance][mmio]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    g.driver.notify(7);
    g.driver.notify(0xffffffff);
    g.run();
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("InterruptACK clears the acknowledged bits and lowers the line", "[conformance][mmio][4.2.2]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    g.device.bump_config();
    CHECK(g.transport.read(mmio::kInterruptStatus, 4) == mmio::kIntConfig);
    CHECK(g.irq.level());
    g.transport.write(mmio::kInterruptAck, 4, mmio::kIntConfig);
    CHECK(g.transport.read(mmio::kInterruptStatus, 4) == 0);
    CHECK_FALSE(g.irq.level());
}

TEST_CASE("QueueReset returns a queue to its reset state when RING_RESET is negotiated", "[conformance][mmio][2.6.1]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    REQUIRE(g.device.negotiated(virtio::kFRingReset));
    g.transport.write(mmio::kQueueSel, 4, 0);
    g.transport.write(mmio::kQueueReset, 4, 1);
    CHECK(g.transport.read(mmio::kQueueReset, 4) == 0);
    CHECK(g.transport.read(mmio::kQueueReady, 4) == 0);
    CHECK(g.device.queue_slot(0)->desc == GuestAddr(0));
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("QueueReset is ignored without RING_RESET", "[conformance][mmio][2.6.1]")
{
    Guest<EchoDevice> g;
    g.bring_up(virtio::feature(virtio::kFVersion1));
    g.transport.write(mmio::kQueueSel, 4, 0);
    g.transport.write(mmio::kQueueReset, 4, 1);
    CHECK(g.transport.read(mmio::kQueueReady, 4) == 1);
}

TEST_CASE("the driver model refuses a window without the virtio magic", "[unit][mmio]")
{
    struct Empty final : MmioRegion {
        uint64_t read(uint64_t, unsigned) override { return 0; }
        void write(uint64_t, unsigned, uint64_t) override {}
    } empty;
    boost::asio::io_context io;
    auto mem = make_ram();
    guest::mm::PhysAllocator alloc(GuestAddr(kRamBase), kRamSize);
    IrqWire irq;
    PollingCpu cpu(io);
    guest::virtio_drivers::VirtioMmioDriver driver({empty, irq, mem, alloc, io.get_executor(), cpu});
    auto probed = driver.probe();
    REQUIRE_FALSE(probed);
    CHECK(probed.error() == "Wrong magic value 0x00000000!");
}
