// Malformed split rings (virtio v1.2 §2.7): each one makes the device give up with NEEDS_RESET and a
// configuration change interrupt, and touches nothing outside guest RAM. Run under ASan+UBSan in CI.
#include <catch2/catch.hpp>

#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "tests/support/ring_writer.h"
#include "virtio/wire/mmio_regs.h"
#include "virtio/wire/ring.h"

using namespace viommu;
using namespace viommu::test;
namespace wire = viommu::virtio::wire;

namespace {

constexpr uint32_t kQueue = 8;

Guest<EchoDevice>& brought_up(Guest<EchoDevice>& g)
{
    g.bring_up(0, kQueue);
    return g;
}

struct MalformedRing {
    Guest<EchoDevice> g{static_cast<uint16_t>(kQueue)};
    Guest<EchoDevice>& up = brought_up(g);
    RingWriter ring{g.mem, g.vq().desc_addr(), g.vq().driver_area(), kQueue};
    GuestAddr buf = *g.alloc.alloc(64 * 1024, 4096); // ordinary buffer space

    // Publishes head, kicks, runs the device, and reports whether it gave up.
    bool gives_up_on(uint16_t head)
    {
        ring.publish(head);
        g.driver.notify(0);
        g.run();
        return g.needs_reset();
    }
    uint64_t b(uint64_t offset = 0) const { return buf.value() + offset; }
};

void check_gave_up(MalformedRing& m, std::string_view reason)
{
    CHECK(m.g.device.broken());
    CHECK_THAT(m.g.device.failure_reason(), Catch::Contains(std::string(reason)));
    // §2.1.2: NEEDS_RESET comes with a configuration change notification.
    CHECK(m.g.device.chains == 0);
    CHECK(m.g.driver.interrupts_taken() == 1);
}

} // namespace

TEST_CASE("a well-formed chain is processed (control for the cases below)", "[conformance][virtqueue]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(), 16, wire::kDescFNext, 1);
    m.ring.desc(1, m.b(64), 16, wire::kDescFWrite);
    CHECK_FALSE(m.gives_up_on(0));
    CHECK(m.g.device.chains == 1);
}

TEST_CASE("a chain that loops makes the device give up", "[conformance][virtqueue][2.7.5.2]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(), 16, wire::kDescFNext, 1);
    m.ring.desc(1, m.b(), 16, wire::kDescFNext, 2);
    m.ring.desc(2, m.b(), 16, wire::kDescFNext, 1); // 0 -> 1 -> 2 -> 1: not through the head
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "looped");
}

TEST_CASE("a chain longer than the queue size makes the device give up", "[conformance][virtqueue][2.7.5.2]")
{
    MalformedRing m;
    for (uint16_t i = 0; i < kQueue; ++i)
        m.ring.desc(i, m.b(), 16, wire::kDescFNext, static_cast<uint16_t>((i + 1) % kQueue));
    REQUIRE(m.gives_up_on(3));
    check_gave_up(m, "looped");
}

TEST_CASE("a head index out of range makes the device give up", "[conformance][virtqueue]")
{
    MalformedRing m;
    REQUIRE(m.gives_up_on(kQueue));
    check_gave_up(m, "head index out of range");
}

TEST_CASE("a next index out of range makes the device give up", "[conformance][virtqueue]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(), 16, wire::kDescFNext, 0xffff);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "next index out of range");
}

TEST_CASE("a readable descriptor after a writable one makes the device give up", "[conformance][virtqueue][2.7.4.2]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(), 16, wire::kDescFWrite | wire::kDescFNext, 1);
    m.ring.desc(1, m.b(64), 16);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "readable descriptor after a device-writable");
}

TEST_CASE("an indirect table inside an indirect table makes the device give up", "[conformance][virtqueue][2.7.5.3.1]")
{
    MalformedRing m;
    const GuestAddr table(m.b(4096));
    m.ring.desc(0, table.value(), 32, wire::kDescFIndirect);
    m.ring.desc_at(table, 0, m.b(), 16, wire::kDescFNext, 1);
    m.ring.desc_at(table, 1, m.b(8192), 16, wire::kDescFIndirect);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "indirect table inside an indirect table");
}

TEST_CASE("an indirect descriptor with NEXT makes the device give up", "[conformance][virtqueue][2.7.5.3.1]")
{
    MalformedRing m;
    const GuestAddr table(m.b(4096));
    m.ring.desc(0, table.value(), 16, wire::kDescFIndirect | wire::kDescFNext, 1);
    m.ring.desc(1, m.b(), 16, wire::kDescFWrite);
    m.ring.desc_at(table, 0, m.b(), 16);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "indirect descriptor with the NEXT flag");
}

TEST_CASE("an indirect table of length 0 makes the device give up", "[conformance][virtqueue][2.7.5.3.1]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(4096), 0, wire::kDescFIndirect);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "indirect table length");
}

TEST_CASE("an indirect table whose length is not a multiple of 16 makes the device give up",
          "[conformance][virtqueue][2.7.5.3.1]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(4096), 24, wire::kDescFIndirect);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "indirect table length");
}

TEST_CASE("an indirect table outside guest RAM makes the device give up", "[conformance][virtqueue]")
{
    MalformedRing m;
    m.ring.desc(0, 0x1000, 32, wire::kDescFIndirect); // below RAM
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "not inside guest RAM");
}

TEST_CASE("an indirect descriptor without VIRTIO_F_INDIRECT_DESC makes the device give up", "[conformance][virtqueue]")
{
    Guest<EchoDevice> g{static_cast<uint16_t>(kQueue), virtio::FeatureBits{0}};
    g.bring_up(0, kQueue);
    RingWriter ring(g.mem, g.vq().desc_addr(), g.vq().driver_area(), kQueue);
    const GuestAddr table = *g.alloc.alloc(4096, 16);
    ring.desc(0, table.value(), 16, wire::kDescFIndirect);
    ring.desc_at(table, 0, table.value() + 1024, 16, wire::kDescFWrite);
    ring.publish(0);
    g.driver.notify(0);
    g.run();
    CHECK(g.needs_reset());
    CHECK_THAT(g.device.failure_reason(), Catch::Contains("without VIRTIO_F_INDIRECT_DESC"));
}

TEST_CASE("a buffer outside guest RAM makes the device give up", "[conformance][virtqueue]")
{
    MalformedRing m;
    m.ring.desc(0, kRamBase + kRamSize - 8, 16, wire::kDescFWrite); // the last 8 bytes are past RAM
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "buffer is not inside guest RAM");
}

TEST_CASE("a buffer that wraps past 2^64 makes the device give up", "[conformance][virtqueue]")
{
    MalformedRing m;
    m.ring.desc(0, ~uint64_t{0} - 15, 32);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "buffer is not inside guest RAM");
}

TEST_CASE("a zero-sized buffer makes the device give up, as in QEMU", "[conformance][virtqueue]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(), 0, wire::kDescFWrite);
    REQUIRE(m.gives_up_on(0));
    check_gave_up(m, "zero-sized buffer");
}

TEST_CASE("a chain longer than 2^32 bytes makes the device give up", "[conformance][virtqueue][2.7.5.2]")
{
    // Guest RAM of 6 GiB (mapped lazily) so that two 3 GiB buffers are real RAM.
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 6ull << 30}});
    REQUIRE(mem);
    auto q = virtio::SplitQueue::create(*mem, 4, {GuestAddr(0), GuestAddr(0x100), GuestAddr(0x200), false, false});
    REQUIRE(q);
    RingWriter ring(*mem, GuestAddr(0), GuestAddr(0x100), 4);
    ring.desc(0, 1ull << 30, 3u << 30, wire::kDescFNext, 1);
    ring.desc(1, 1ull << 30, 3u << 30, wire::kDescFWrite);
    ring.publish(0);
    auto chain = q->pop();
    REQUIRE_FALSE(chain);
    CHECK(chain.error() == virtio::QueueError::kChainTooLarge);
}

TEST_CASE("a chain of exactly 2^32 bytes is accepted", "[conformance][virtqueue][2.7.5.2]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 6ull << 30}});
    REQUIRE(mem);
    auto q = virtio::SplitQueue::create(*mem, 4, {GuestAddr(0), GuestAddr(0x100), GuestAddr(0x200), false, false});
    REQUIRE(q);
    RingWriter ring(*mem, GuestAddr(0), GuestAddr(0x100), 4);
    ring.desc(0, 1ull << 30, 2u << 30, wire::kDescFNext, 1);
    ring.desc(1, 1ull << 30, 2u << 30, wire::kDescFWrite);
    ring.publish(0);
    auto chain = q->pop();
    REQUIRE(chain);
    REQUIRE(*chain);
    CHECK((*chain)->readable_bytes() + (*chain)->writable_bytes() == (1ull << 32));
    q->push_used(std::move(**chain), 0);
}

TEST_CASE("avail.idx more than the queue size ahead makes the device give up", "[conformance][virtqueue]")
{
    MalformedRing m;
    m.ring.desc(0, m.b(), 16, wire::kDescFWrite);
    m.ring.set_avail_idx(kQueue + 1);
    m.g.driver.notify(0);
    m.g.run();
    REQUIRE(m.g.needs_reset());
    check_gave_up(m, "available index runs more than the queue size ahead");
}

TEST_CASE("a ring outside guest RAM makes the device give up when the queue is enabled", "[conformance][virtqueue]")
{
    Guest<EchoDevice> g;
    g.driver.reset();
    g.driver.add_status(virtio::status::kAcknowledge | virtio::status::kDriver);
    REQUIRE(g.driver.finalize_features(g.driver.device_features()));
    g.transport.write(virtio::mmio::kQueueSel, 4, 0);
    g.transport.write(virtio::mmio::kQueueNum, 4, 256);
    g.transport.write(virtio::mmio::kQueueDescLow, 4, 0x1000); // below RAM
    g.transport.write(virtio::mmio::kQueueDriverLow, 4, kRamBase);
    g.transport.write(virtio::mmio::kQueueDeviceLow, 4, kRamBase + 0x10000);
    g.transport.write(virtio::mmio::kQueueReady, 4, 1);
    CHECK(g.needs_reset());
    CHECK(g.transport.read(virtio::mmio::kQueueReady, 4) == 0);
    CHECK_THAT(g.device.failure_reason(), Catch::Contains("ring area is not inside guest RAM"));
}

TEST_CASE("a misaligned descriptor table makes the device give up when the queue is enabled", "[conformance][virtqueue][2.7]")
{
    Guest<EchoDevice> g;
    g.driver.reset();
    g.driver.add_status(virtio::status::kAcknowledge | virtio::status::kDriver);
    REQUIRE(g.driver.finalize_features(g.driver.device_features()));
    g.transport.write(virtio::mmio::kQueueSel, 4, 0);
    g.transport.write(virtio::mmio::kQueueDescLow, 4, kRamBase + 8);
    g.transport.write(virtio::mmio::kQueueDriverLow, 4, kRamBase + 0x10000);
    g.transport.write(virtio::mmio::kQueueDeviceLow, 4, kRamBase + 0x20000);
    g.transport.write(virtio::mmio::kQueueReady, 4, 1);
    CHECK(g.needs_reset());
    CHECK_THAT(g.device.failure_reason(), Catch::Contains("not aligned"));
}

TEST_CASE("a queue size that is not a power of two makes the device give up", "[conformance][virtqueue][2.7]")
{
    Guest<EchoDevice> g;
    g.driver.reset();
    g.driver.add_status(virtio::status::kAcknowledge | virtio::status::kDriver);
    REQUIRE(g.driver.finalize_features(g.driver.device_features()));
    g.transport.write(virtio::mmio::kQueueSel, 4, 0);
    g.transport.write(virtio::mmio::kQueueNum, 4, 100);
    g.transport.write(virtio::mmio::kQueueDescLow, 4, kRamBase);
    g.transport.write(virtio::mmio::kQueueDriverLow, 4, kRamBase + 0x10000);
    g.transport.write(virtio::mmio::kQueueDeviceLow, 4, kRamBase + 0x20000);
    g.transport.write(virtio::mmio::kQueueReady, 4, 1);
    CHECK(g.needs_reset());
}

TEST_CASE("a device that gave up uses no queue until it is reset", "[conformance][virtqueue][2.1.2]")
{
    MalformedRing m;
    REQUIRE(m.gives_up_on(kQueue));
    // A good chain after the bad one is not processed...
    m.ring.desc(1, m.b(), 16, wire::kDescFWrite);
    m.ring.publish(1);
    m.g.driver.notify(0);
    m.g.run();
    CHECK(m.g.device.chains == 0);
    // ...until the driver resets the device and starts over.
    m.g.bring_up(0, kQueue);
    CHECK_FALSE(m.g.needs_reset());
    const guest::virtio_drivers::Buf out{m.buf, 16};
    const guest::virtio_drivers::Buf in{GuestAddr(m.b(64)), 16};
    REQUIRE(m.g.vq().add(std::span(&out, 1), std::span(&in, 1), 7));
    m.g.driver.kick(0);
    m.g.run();
    CHECK(m.g.device.chains == 1);
}
