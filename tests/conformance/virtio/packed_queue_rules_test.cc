// Malformed packed rings (virtio v1.2 §2.8): each one makes the device give up with NEEDS_RESET and a
// configuration change interrupt, uses nothing, and touches nothing outside guest RAM. Run under
// ASan+UBSan in CI. What the spec says the device ignores (reserved flags) is checked to be ignored.
#include <catch2/catch.hpp>

#include "tests/support/packed_fixture.h"
#include "virtio/packed_queue.h"
#include "virtio/wire/packed_ring.h"

using namespace viommu;
using namespace viommu::test;
namespace wire = viommu::virtio::wire;

namespace {

constexpr uint16_t kQueue = 8;
const uint16_t kAvail = PackedRingWriter::avail_bits(true); // available on the first pass

struct MalformedRing : PackedGuest {
    MalformedRing() : PackedGuest(kQueue) {}
    // Kicks, runs the device, and reports whether it gave up.
    bool gives_up()
    {
        kick();
        return g.needs_reset();
    }
};

void check_gave_up(MalformedRing& m, std::string_view reason)
{
    CHECK(m.g.device.broken());
    CHECK_THAT(m.g.device.failure_reason(), Catch::Contains(std::string(reason)));
    CHECK(m.g.device.chains == 0);
    // §2.1.2: NEEDS_RESET comes with a configuration change notification.
    CHECK(m.g.driver.interrupts_taken() == 1);
    // Nothing was marked used.
    CHECK((m.ring.read(0).flags.get() & wire::kPackedDescFUsed) == 0);
}

// A bare PackedQueue over `mem` at 0 (descriptor ring), 0x1000 and 0x1004 (event suppression areas).
virtio::PackedQueue bare_queue(virtio::GuestMemory& mem, uint32_t size, bool indirect = false)
{
    auto q = virtio::PackedQueue::create(mem, size, {GuestAddr(0), GuestAddr(0x1000), GuestAddr(0x1004), false, indirect});
    REQUIRE(q);
    return std::move(*q);
}

// Re-enables queue 0 of a fresh PackedGuest with these areas, and reports why the device gave up ("" if
// it did not).
std::string refusal_of_layout(PackedGuest& p, GuestAddr desc, GuestAddr driver, GuestAddr device)
{
    p.g.device.reset_queue(0);
    p.enable(desc, driver, device, kQueue);
    return p.g.needs_reset() ? p.g.device.failure_reason() : std::string();
}

} // namespace

TEST_CASE("packed: a well-formed chain is processed (control for the cases below)", "[conformance][packed]")
{
    MalformedRing m;
    m.ring.add({{m.b(), 16}, {m.b(64), 16, true}}, 3);
    CHECK_FALSE(m.gives_up());
    CHECK(m.g.device.chains == 1);
}

TEST_CASE("packed: a list longer than the queue size makes the device give up", "[conformance][packed][2.8.17]")
{
    // §2.8.17: "A driver MUST NOT create a descriptor list longer than the Queue Size." Every descriptor
    // has NEXT: the list would run round the ring into itself.
    MalformedRing m;
    for (uint16_t pos = 0; pos < kQueue; ++pos)
        m.ring.desc(pos, m.b(), 16, kAvail | wire::kDescFNext);
    REQUIRE(m.gives_up());
    check_gave_up(m, "longer than its table");
}

TEST_CASE("packed: a list whose later descriptor is not available makes the device give up",
          "[conformance][packed][2.8.17]")
{
    // §2.8.17: "A driver MUST NOT make the first descriptor in the list available before all subsequent
    // descriptors comprising the list are made available."
    MalformedRing m;
    m.ring.desc(0, m.b(), 16, kAvail | wire::kDescFNext);
    m.ring.desc(1, m.b(64), 16, wire::kDescFWrite); // AVAIL and USED both clear: never made available
    REQUIRE(m.gives_up());
    check_gave_up(m, "not available");
}

TEST_CASE("packed: a list continuing past the ring's end needs the next pass's wrap bits",
          "[conformance][packed][2.8.1]")
{
    // The list wraps from the last position to 0; position 0 belongs to the next pass, on which the
    // driver's wrap counter is 0. Marked with the first pass's bits it is not available.
    MalformedRing m;
    for (uint16_t i = 0; i < kQueue - 1; ++i) // fill and use positions 0..6, one buffer each
        m.ring.add({{m.b(), 16, true}}, i);
    m.kick();
    REQUIRE(m.g.device.chains == kQueue - 1);
    m.ring.desc(kQueue - 1, m.b(), 16, kAvail | wire::kDescFNext, 7);
    m.ring.desc(0, m.b(64), 16, kAvail | wire::kDescFWrite, 7); // should be avail_bits(false)
    REQUIRE(m.gives_up());
    CHECK_THAT(m.g.device.failure_reason(), Catch::Contains("not available"));
}

TEST_CASE("packed: a readable descriptor after a writable one makes the device give up",
          "[conformance][packed][2.8.17]")
{
    MalformedRing m;
    m.ring.add({{m.b(), 16, true}, {m.b(64), 16}}, 0);
    REQUIRE(m.gives_up());
    check_gave_up(m, "readable descriptor after a device-writable");
}

TEST_CASE("packed: a readable entry after a writable one in an indirect table makes the device give up",
          "[conformance][packed][2.8.17]")
{
    MalformedRing m;
    const GuestAddr table(m.b(4096));
    m.ring.desc(0, table.value(), 32, kAvail | wire::kDescFIndirect);
    m.ring.desc_at(table, 0, m.b(), 16, wire::kDescFWrite);
    m.ring.desc_at(table, 1, m.b(64), 16);
    REQUIRE(m.gives_up());
    check_gave_up(m, "readable descriptor after a device-writable");
}

TEST_CASE("packed: an indirect descriptor with NEXT makes the device give up", "[conformance][packed][2.8.19]")
{
    // §2.8.19: "A driver MUST NOT write direct descriptors with DESC_F_INDIRECT set in a scatter-gather
    // list linked by VIRTQ_DESC_F_NEXT."
    MalformedRing m;
    const GuestAddr table(m.b(4096));
    m.ring.desc(0, table.value(), 16, kAvail | wire::kDescFIndirect | wire::kDescFNext);
    m.ring.desc(1, m.b(), 16, kAvail | wire::kDescFWrite);
    m.ring.desc_at(table, 0, m.b(64), 16);
    REQUIRE(m.gives_up());
    check_gave_up(m, "indirect descriptor with the NEXT flag");
}

TEST_CASE("packed: an indirect descriptor at the end of a NEXT list makes the device give up",
          "[conformance][packed][2.8.19]")
{
    MalformedRing m;
    const GuestAddr table(m.b(4096));
    m.ring.desc(0, m.b(), 16, kAvail | wire::kDescFNext);
    m.ring.desc(1, table.value(), 16, kAvail | wire::kDescFIndirect);
    m.ring.desc_at(table, 0, m.b(64), 16, wire::kDescFWrite);
    REQUIRE(m.gives_up());
    check_gave_up(m, "indirect descriptor inside a list");
}

TEST_CASE("packed: an indirect descriptor without VIRTIO_F_INDIRECT_DESC makes the device give up",
          "[conformance][packed][2.8.19]")
{
    PackedGuest p(kQueue, virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFRingPacked));
    const GuestAddr table(p.b(4096));
    p.ring.desc(0, table.value(), 16, kAvail | wire::kDescFIndirect);
    p.ring.desc_at(table, 0, p.b(), 16, wire::kDescFWrite);
    p.kick();
    CHECK(p.g.needs_reset());
    CHECK_THAT(p.g.device.failure_reason(), Catch::Contains("without VIRTIO_F_INDIRECT_DESC"));
}

TEST_CASE("packed: an indirect table of length 0 makes the device give up", "[conformance][packed][2.8.7]")
{
    // §2.8: "each buffer has at least one element"; a table of no descriptors describes none.
    MalformedRing m;
    m.ring.desc(0, m.b(4096), 0, kAvail | wire::kDescFIndirect);
    REQUIRE(m.gives_up());
    check_gave_up(m, "indirect table length");
}

TEST_CASE("packed: an indirect table whose length is not a multiple of 16 makes the device give up",
          "[conformance][packed][2.8.7]")
{
    // §2.8.7: the table is "struct pvirtq_desc desc[len / sizeof(struct pvirtq_desc)]".
    MalformedRing m;
    m.ring.desc(0, m.b(4096), 24, kAvail | wire::kDescFIndirect);
    REQUIRE(m.gives_up());
    check_gave_up(m, "indirect table length");
}

TEST_CASE("packed: an indirect table outside guest RAM makes the device give up", "[conformance][packed]")
{
    MalformedRing m;
    m.ring.desc(0, 0x1000, 32, kAvail | wire::kDescFIndirect); // below RAM
    REQUIRE(m.gives_up());
    check_gave_up(m, "not inside guest RAM");
}

TEST_CASE("packed: a buffer outside guest RAM makes the device give up", "[conformance][packed]")
{
    MalformedRing m;
    m.ring.add({{kRamBase + kRamSize - 8, 16, true}}, 0); // the last 8 bytes are past RAM
    REQUIRE(m.gives_up());
    check_gave_up(m, "buffer is not inside guest RAM");
}

TEST_CASE("packed: a buffer that wraps past 2^64 makes the device give up", "[conformance][packed]")
{
    MalformedRing m;
    m.ring.add({{~uint64_t{0} - 15, 32}}, 0);
    REQUIRE(m.gives_up());
    check_gave_up(m, "buffer is not inside guest RAM");
}

TEST_CASE("packed: a zero-sized buffer makes the device give up, as in QEMU", "[conformance][packed]")
{
    MalformedRing m;
    m.ring.add({{m.b(), 0, true}}, 0);
    REQUIRE(m.gives_up());
    check_gave_up(m, "zero-sized buffer");
}

TEST_CASE("packed: a chain longer than 2^32 bytes is refused", "[conformance][packed]")
{
    // The used descriptor's len is 32 bits (§2.8.13): the device takes no chain it could not report.
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 6ull << 30}});
    REQUIRE(mem);
    auto q = bare_queue(*mem, 4);
    PackedRingWriter ring(*mem, GuestAddr(0), GuestAddr(0x1000), GuestAddr(0x1004), 4);
    ring.add({{1ull << 30, 3u << 30}, {1ull << 30, 3u << 30, true}}, 0);
    auto chain = q.pop();
    REQUIRE_FALSE(chain);
    CHECK(chain.error() == virtio::QueueError::kChainTooLarge);
}

TEST_CASE("packed: a chain of exactly 2^32 bytes is accepted", "[conformance][packed]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 6ull << 30}});
    REQUIRE(mem);
    auto q = bare_queue(*mem, 4);
    PackedRingWriter ring(*mem, GuestAddr(0), GuestAddr(0x1000), GuestAddr(0x1004), 4);
    ring.add({{1ull << 30, 2u << 30}, {1ull << 30, 2u << 30, true}}, 0);
    auto chain = q.pop();
    REQUIRE(chain);
    REQUIRE(*chain);
    CHECK((*chain)->readable_bytes() + (*chain)->writable_bytes() == (1ull << 32));
    q.push_used(std::move(**chain), 0);
}

TEST_CASE("packed: a queue size of 0 or above 32768 is refused", "[conformance][packed][2.8]")
{
    // §2.8: "Packed virtqueues support up to 2^15 entries each."
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 1ull << 20}});
    REQUIRE(mem);
    const virtio::QueueLayout layout{GuestAddr(0), GuestAddr(0x80000), GuestAddr(0x80004), false, false};
    CHECK(virtio::PackedQueue::create(*mem, 0, layout).error() == virtio::QueueError::kBadSize);
    CHECK(virtio::PackedQueue::create(*mem, 32769, layout).error() == virtio::QueueError::kBadSize);
    CHECK(virtio::PackedQueue::create(*mem, 32768, layout));
}

TEST_CASE("packed: a queue size that is not a power of two is accepted", "[conformance][packed][2.8.10.1]")
{
    // §2.8.10.1: "The Queue Size value does not have to be a power of 2 unless enforced by the transport."
    PackedGuest p(6);
    CHECK_FALSE(p.g.needs_reset());
    REQUIRE(p.g.device.queue_slot(0)->ring);
    CHECK(p.g.device.queue_slot(0)->ring->size() == 6);
}

TEST_CASE("packed: a misaligned descriptor ring makes the device give up when the queue is enabled",
          "[conformance][packed][2.8.11]")
{
    // §2.8.11: "The driver MUST ensure that the physical address of the first byte of each virtqueue part
    // is a multiple of the specified alignment value" (descriptor ring 16, event suppression 4, §2.8.10.1).
    PackedGuest p;
    CHECK_THAT(refusal_of_layout(p, GuestAddr(p.desc.value() + 8), p.driver, p.device), Catch::Contains("not aligned"));
}

TEST_CASE("packed: a misaligned driver event suppression area makes the device give up",
          "[conformance][packed][2.8.11]")
{
    PackedGuest p;
    CHECK_THAT(refusal_of_layout(p, p.desc, GuestAddr(p.driver.value() + 2), p.device), Catch::Contains("not aligned"));
}

TEST_CASE("packed: a misaligned device event suppression area makes the device give up",
          "[conformance][packed][2.8.11]")
{
    PackedGuest p;
    CHECK_THAT(refusal_of_layout(p, p.desc, p.driver, GuestAddr(p.device.value() + 2)), Catch::Contains("not aligned"));
}

TEST_CASE("packed: a descriptor ring outside guest RAM makes the device give up", "[conformance][packed]")
{
    PackedGuest p;
    const GuestAddr desc(kRamBase + kRamSize - 16 * 4); // the last 4 descriptors past RAM
    CHECK_THAT(refusal_of_layout(p, desc, p.driver, p.device), Catch::Contains("ring area is not inside guest RAM"));
}

TEST_CASE("packed: an event suppression area outside guest RAM makes the device give up", "[conformance][packed]")
{
    PackedGuest p;
    CHECK_THAT(refusal_of_layout(p, p.desc, GuestAddr(0x1000), p.device),
               Catch::Contains("ring area is not inside guest RAM"));
}

TEST_CASE("packed: a device that gave up uses no queue until it is reset", "[conformance][packed][2.1.2]")
{
    MalformedRing m;
    m.ring.add({{m.b(), 0, true}}, 0);
    REQUIRE(m.gives_up());
    m.ring.add({{m.b(), 16, true}}, 1);
    m.kick();
    CHECK(m.g.device.chains == 0);
    CHECK((m.ring.read(1).flags.get() & wire::kPackedDescFUsed) == 0);
}
