// What a packed virtqueue does for a well-behaved driver (virtio v1.2 §2.8): used descriptors and the
// wrap counters, chains and indirect tables, Buffer IDs, event suppression in both directions, queue
// reset and snapshots.
#include <catch2/catch.hpp>

#include "tests/support/packed_fixture.h"
#include "tests/support/pci_fixture.h"
#include "virtio/packed_queue.h"
#include "virtio/wire/packed_ring.h"

using namespace viommu;
using namespace viommu::test;
namespace wire = viommu::virtio::wire;

namespace {

// A used descriptor as §2.8.1 defines it on a pass with the device's wrap counter `wrap`: AVAIL and USED
// both equal to it.
bool is_used(const wire::PackedDesc& d, bool wrap)
{
    const uint16_t f = d.flags.get();
    return ((f & wire::kPackedDescFAvail) != 0) == wrap && ((f & wire::kPackedDescFUsed) != 0) == wrap;
}

virtio::QueueLayout bare_layout(bool event_idx)
{
    return {GuestAddr(0), GuestAddr(0x1000), GuestAddr(0x1004), event_idx, false};
}

} // namespace

TEST_CASE("packed: a used descriptor carries the Buffer ID, the length written and WRITE",
          "[conformance][packed][2.8.3][2.8.4]")
{
    PackedGuest p;
    REQUIRE(p.g.mem.write_obj(GuestAddr(p.b()), uint32_t{0x01020304}));
    p.ring.add({{p.b(), 4}, {p.b(64), 16, true}}, 0x1234); // any 16-bit id: the device only echoes it
    p.kick();
    REQUIRE(p.g.device.chains == 1);
    const auto used = p.ring.read(0);
    CHECK(is_used(used, true));
    CHECK(used.id.get() == 0x1234);
    CHECK(used.len.get() == 4);
    CHECK((used.flags.get() & wire::kDescFWrite) != 0);
    CHECK(*p.g.mem.read_obj<uint32_t>(GuestAddr(p.b(64))) == (0x01020304u ^ 0x5a5a5a5au));
}

TEST_CASE("packed: a used descriptor of a buffer nothing was written to has no WRITE flag",
          "[conformance][packed][2.8.3]")
{
    // §2.8.3: "In a used descriptor, this bit is used to specify whether any data has been written by
    // the device into any parts of the buffer."
    PackedGuest p;
    p.ring.add({{p.b(), 16}}, 5);
    p.kick();
    const auto used = p.ring.read(0);
    CHECK(is_used(used, true));
    CHECK(used.id.get() == 5);
    CHECK((used.flags.get() & wire::kDescFWrite) == 0);
}

TEST_CASE("packed: the Buffer ID of a list is taken from its last descriptor", "[conformance][packed][2.8.6]")
{
    // §2.8.6: "Buffer ID is included in the last descriptor in the list."
    PackedGuest p;
    p.ring.desc(0, p.b(), 8, PackedRingWriter::avail_bits(true) | wire::kDescFNext, 111);
    p.ring.desc(1, p.b(64), 8, PackedRingWriter::avail_bits(true) | wire::kDescFWrite, 222);
    p.kick();
    CHECK(p.ring.read(0).id.get() == 222);
}

TEST_CASE("packed: the device skips a list's descriptors when it writes used descriptors",
          "[conformance][packed][2.8.6]")
{
    // §2.8.6: "The device only writes out a single used descriptor for the whole list. It then skips
    // forward according to the number of descriptors in the list."
    PackedGuest p;
    p.ring.add({{p.b(), 8}, {p.b(16), 8}, {p.b(64), 16, true}}, 1); // positions 0..2
    p.ring.add({{p.b(128), 8}, {p.b(192), 8, true}}, 2);             // positions 3..4
    p.kick();
    REQUIRE(p.g.device.chains == 2);
    CHECK(is_used(p.ring.read(0), true));
    CHECK(p.ring.read(0).id.get() == 1);
    CHECK(p.ring.read(0).len.get() == 16);
    CHECK(is_used(p.ring.read(3), true));
    CHECK(p.ring.read(3).id.get() == 2);
    CHECK_FALSE(is_used(p.ring.read(1), true)); // skipped: still the driver's
    CHECK(p.g.device.queue_slot(0)->ring->indices().used_idx == (5 | 0x8000));
}

TEST_CASE("packed: wrap counters toggle at the end of a ring of any size", "[conformance][packed][2.8.1]")
{
    // A ring of 5 (not a power of two) and lists of 2 descriptors: lists straddle the end of the ring,
    // and the wrap counters of both sides toggle there, 2000 times over.
    PackedGuest p(5);
    REQUIRE(p.g.mem.write_obj(GuestAddr(p.b()), uint32_t{0xcafef00d}));
    uint32_t used_pos = 0;
    bool used_wrap = true;
    for (uint16_t i = 0; i < 5000; ++i) {
        p.ring.add({{p.b(), 4}, {p.b(64), 4, true}}, i);
        p.kick();
        const auto used = p.ring.read(used_pos);
        REQUIRE(is_used(used, used_wrap));
        REQUIRE(used.id.get() == i);
        REQUIRE(used.len.get() == 4);
        used_pos += 2;
        if (used_pos >= 5) {
            used_pos -= 5;
            used_wrap = !used_wrap;
        }
    }
    CHECK(p.g.device.chains == 5000);
    CHECK_FALSE(p.g.needs_reset());
    CHECK(*p.g.mem.read_obj<uint32_t>(GuestAddr(p.b(64))) == (0xcafef00du ^ 0x5a5a5a5au));
}

TEST_CASE("packed: a buffer in an indirect table takes one ring descriptor", "[conformance][packed][2.8.7]")
{
    PackedGuest p;
    const GuestAddr table(p.b(4096));
    REQUIRE(p.g.mem.write_obj(GuestAddr(p.b()), uint64_t{0x1111111111111111}));
    // §2.8.7: WRITE on the descriptor that points to the table "is reserved and is ignored by the device".
    p.ring.desc(0, table.value(), 32, PackedRingWriter::avail_bits(true) | wire::kDescFIndirect | wire::kDescFWrite, 9);
    p.ring.desc_at(table, 0, p.b(), 8, 0, 0xdead); // an entry's Buffer ID "is reserved and is ignored"
    p.ring.desc_at(table, 1, p.b(64), 8, wire::kDescFWrite);
    p.ring.desc(1, p.b(128), 4, PackedRingWriter::avail_bits(true) | wire::kDescFWrite, 10); // one was enough
    p.kick();
    REQUIRE(p.g.device.chains == 2);
    CHECK(p.ring.read(0).id.get() == 9);
    CHECK(p.ring.read(0).len.get() == 8);
    CHECK(p.ring.read(1).id.get() == 10);
    CHECK(*p.g.mem.read_obj<uint64_t>(GuestAddr(p.b(64))) == (0x1111111111111111ull ^ 0x5a5a5a5a5a5a5a5aull));
}

TEST_CASE("packed: flags other than WRITE in an indirect table are ignored", "[conformance][packed][2.8.7]")
{
    // §2.8.7: "The VIRTQ_DESC_F_WRITE flags bit is the only valid flag for descriptors in the indirect
    // table. Others are reserved and are ignored by the device." The table's length says where it ends.
    PackedGuest p;
    const GuestAddr table(p.b(4096));
    p.ring.desc(0, table.value(), 32, PackedRingWriter::avail_bits(true) | wire::kDescFIndirect, 4);
    p.ring.desc_at(table, 0, p.b(), 8, wire::kDescFNext | wire::kDescFIndirect);
    p.ring.desc_at(table, 1, p.b(64), 8, wire::kDescFWrite | wire::kDescFNext);
    p.kick();
    CHECK_FALSE(p.g.needs_reset());
    REQUIRE(p.g.device.chains == 1);
    CHECK(p.ring.read(0).len.get() == 8);
}

TEST_CASE("packed: the driver event suppression flags decide used buffer notifications",
          "[conformance][packed][2.8.10]")
{
    PackedGuest p(8, virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFRingPacked));
    p.ring.set_driver_event(wire::kRingEventFlagsDisable);
    p.ring.add({{p.b(), 4, true}}, 0);
    p.kick();
    CHECK(p.g.device.chains == 1);
    CHECK(p.g.driver.interrupts_taken() == 0);
    p.ring.set_driver_event(wire::kRingEventFlagsEnable);
    p.ring.add({{p.b(), 4, true}}, 1);
    p.kick();
    CHECK(p.g.driver.interrupts_taken() == 1);
}

TEST_CASE("packed: with EVENT_IDX the driver is notified once its event descriptor is used",
          "[conformance][packed][2.8.10]")
{
    PackedGuest p;
    // Ask for an event when the descriptor at position 2 of the first pass is used.
    p.ring.set_driver_event(wire::kRingEventFlagsDesc, 2 | 0x8000);
    p.ring.add({{p.b(), 4, true}}, 0);
    p.kick(); // the first used buffer since the queue was enabled is always notified
    CHECK(p.g.driver.interrupts_taken() == 1);
    p.ring.add({{p.b(), 4, true}}, 1);
    p.kick(); // position 1 used: not yet
    CHECK(p.g.driver.interrupts_taken() == 1);
    p.ring.add({{p.b(), 4, true}}, 2);
    p.kick(); // position 2 used
    CHECK(p.g.driver.interrupts_taken() == 2);
    p.ring.add({{p.b(), 4, true}}, 3);
    p.kick(); // past it
    CHECK(p.g.driver.interrupts_taken() == 2);
}

TEST_CASE("packed: with EVENT_IDX an event offset on the previous pass is already passed",
          "[conformance][packed][2.8.10]")
{
    PackedGuest p(4);
    for (uint16_t i = 0; i < 3; ++i)
        p.ring.add({{p.b(), 4, true}}, i);
    p.kick();
    REQUIRE(p.g.driver.interrupts_taken() == 1);
    // The event descriptor is position 3 of the first pass; the next list runs 3, 0 and ends the pass.
    p.ring.set_driver_event(wire::kRingEventFlagsDesc, 3 | 0x8000);
    p.ring.add({{p.b(), 4}, {p.b(64), 4, true}}, 7);
    p.kick();
    CHECK(p.g.driver.interrupts_taken() == 2);
    CHECK(p.g.device.queue_slot(0)->ring->indices().used_idx == 1); // position 1, wrap counter 0
}

TEST_CASE("packed: set_notification writes the device event suppression area", "[conformance][packed][2.8.10]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}});
    REQUIRE(mem);
    PackedRingWriter ring(*mem, GuestAddr(0), GuestAddr(0x1000), GuestAddr(0x1004), 4);

    auto plain = virtio::PackedQueue::create(*mem, 4, bare_layout(false));
    REQUIRE(plain);
    plain->set_notification(false);
    CHECK(ring.device_event().flags.get() == wire::kRingEventFlagsDisable);
    plain->set_notification(true);
    CHECK(ring.device_event().flags.get() == wire::kRingEventFlagsEnable);

    auto with_event_idx = virtio::PackedQueue::create(*mem, 4, bare_layout(true));
    REQUIRE(with_event_idx);
    for (uint16_t id = 0; id < 4; ++id) {
        if (id < 3)
            ring.add({{0x2000, 16}}, id);
        else
            ring.add({{0x2000, 16}, {0x3000, 16, true}}, id); // positions 3 and 0: ends the first pass
        auto chain = with_event_idx->pop();
        REQUIRE((chain && *chain));
        with_event_idx->push_used(std::move(**chain), 0);
    }
    with_event_idx->set_notification(true);
    // A DESC event at the device's next position, position 1 of the second pass (wrap counter 0).
    CHECK(ring.device_event().flags.get() == wire::kRingEventFlagsDesc);
    CHECK(ring.device_event().off_wrap.get() == 1);
}

TEST_CASE("packed: with EVENT_IDX each pop moves the device's event offset on", "[conformance][packed][2.8.10]")
{
    PackedGuest p;
    p.ring.add({{p.b(), 4}, {p.b(64), 4, true}}, 0);
    p.kick();
    CHECK(p.ring.device_event().off_wrap.get() == (2 | 0x8000));
}

TEST_CASE("packed: an unpopped chain is popped again", "[conformance][packed]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}});
    REQUIRE(mem);
    auto q = virtio::PackedQueue::create(*mem, 2, bare_layout(false));
    REQUIRE(q);
    PackedRingWriter ring(*mem, GuestAddr(0), GuestAddr(0x1000), GuestAddr(0x1004), 2);
    ring.add({{0x2000, 16}, {0x3000, 16, true}}, 6); // the whole ring: unpop crosses the wrap back
    auto chain = q->pop();
    REQUIRE((chain && *chain));
    CHECK(q->indices().next_avail == 0); // position 0 of the second pass
    q->unpop(std::move(**chain));
    CHECK(q->indices().next_avail == 0x8000);
    auto again = q->pop();
    REQUIRE((again && *again));
    CHECK((*again)->head() == 6);
    q->push_used(std::move(**again), 16);
}

TEST_CASE("packed: a chain rewritten after pop does not change the popped chain", "[conformance][packed]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}});
    REQUIRE(mem);
    auto q = virtio::PackedQueue::create(*mem, 4, bare_layout(false));
    REQUIRE(q);
    PackedRingWriter ring(*mem, GuestAddr(0), GuestAddr(0x1000), GuestAddr(0x1004), 4);
    ring.add({{0x2000, 16, true}}, 1);
    auto chain = q->pop();
    REQUIRE((chain && *chain));
    ring.desc(0, 0xfff0, 0xffff, PackedRingWriter::avail_bits(true) | wire::kDescFWrite, 2); // a hostile rewrite
    CHECK((*chain)->writable_bytes() == 16);
    CHECK((*chain)->head() == 1);
    q->push_used(std::move(**chain), 16);
}

TEST_CASE("packed: a queue reset starts the ring over at position 0 with wrap counters 1",
          "[conformance][packed][2.6.1]")
{
    PackedGuest p(4);
    for (uint16_t i = 0; i < 5; ++i) {
        p.ring.add({{p.b(), 4, true}}, i);
        p.kick();
    }
    REQUIRE(p.g.device.queue_slot(0)->ring->indices().next_avail == 1); // position 1, wrap counter 0
    p.g.device.reset_queue(0);
    const GuestAddr fresh = *p.g.alloc.alloc(16 * 4, 16);
    p.enable(fresh, p.driver, p.device, 4);
    PackedRingWriter ring(p.g.mem, fresh, p.driver, p.device, 4);
    ring.add({{p.b(), 4, true}}, 42);
    p.kick();
    CHECK(is_used(ring.read(0), true));
    CHECK(ring.read(0).id.get() == 42);
}

TEST_CASE("packed: positions and wrap counters survive save and restore", "[conformance][packed]")
{
    PackedGuest p(4);
    for (uint16_t i = 0; i < 3; ++i) {
        p.ring.add({{p.b(), 4}, {p.b(64), 4, true}}, i);
        p.kick();
    }
    const virtio::DeviceState saved = p.g.device.save_state();
    CHECK(saved.queues[0].indices.next_avail == 2); // position 2, wrap counter 0
    p.g.device.reset();
    REQUIRE(p.g.device.restore_state(saved));
    p.ring.add({{p.b(), 4}, {p.b(64), 4, true}}, 3);
    p.kick();
    CHECK(is_used(p.ring.read(2), false));
    CHECK(p.ring.read(2).id.get() == 3);
}

TEST_CASE("packed: a snapshot with a position outside the ring is refused", "[conformance][packed]")
{
    PackedGuest p(4);
    virtio::DeviceState saved = p.g.device.save_state();
    saved.queues[0].indices.next_avail = 4 | 0x8000;
    const auto restored = p.g.device.restore_state(saved);
    REQUIRE_FALSE(restored);
    CHECK_THAT(restored.error(), Catch::Contains("not inside the ring"));
}

TEST_CASE("packed: virtio-pci's queue_desc, queue_driver and queue_device are the ring and its event areas",
          "[conformance][packed][4.1.4.3]")
{
    // §4.1.4.3: the same three registers; with VIRTIO_F_RING_PACKED they hold the Descriptor Ring and the
    // Driver and Device Event Suppression areas (§2.8). A size of 6 is no power of two.
    PciBoard<EchoDevice> b(echo_identity(), uint16_t{8}, kPackedEchoFeatures);
    b.bring_up(6);
    REQUIRE_FALSE(b.status() & virtio::status::kNeedsReset);
    PackedRingWriter ring(b.mem, GuestAddr(kPciDescArea), GuestAddr(kPciAvailArea), GuestAddr(kPciUsedArea), 6);
    REQUIRE(b.mem.write_obj(GuestAddr(kRamBase + 0x40000), uint32_t{0x11223344}));
    ring.add({{kRamBase + 0x40000, 4}, {kRamBase + 0x50000, 4, true}}, 77);
    b.notify(0);
    b.run();
    CHECK(is_used(ring.read(0), true));
    CHECK(ring.read(0).id.get() == 77);
    CHECK(*b.mem.read_obj<uint32_t>(GuestAddr(kRamBase + 0x50000)) == (0x11223344u ^ 0x5a5a5a5au));
    // With EVENT_IDX negotiated the device asks to hear of position 2, the next it will read.
    CHECK(ring.device_event().off_wrap.get() == (2 | 0x8000));
}
