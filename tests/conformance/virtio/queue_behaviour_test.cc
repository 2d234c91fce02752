// What a split virtqueue does for a well-behaved driver (virtio v1.2 §2.7): index wrap-around, indirect
// tables, and notification suppression in both directions.
#include <catch2/catch.hpp>

#include <vector>

#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "tests/support/ring_writer.h"
#include "virtio/chain_io.h"
#include "virtio/wire/ring.h"

using namespace viommu;
using namespace viommu::test;
namespace wire = viommu::virtio::wire;

namespace {
constexpr virtio::FeatureBits kV1 = virtio::feature(virtio::kFVersion1);
constexpr virtio::FeatureBits kEventIdx = virtio::feature(virtio::kFEventIdx);
constexpr virtio::FeatureBits kIndirect = virtio::feature(virtio::kFIndirectDesc);

// Adds one echo request of n bytes and returns the token.
void add_echo(Guest<EchoDevice>& g, GuestAddr out, GuestAddr in, uint32_t n, uint64_t token)
{
    const guest::virtio_drivers::Buf o{out, n};
    const guest::virtio_drivers::Buf i{in, n};
    REQUIRE(g.vq().add(std::span(&o, 1), std::span(&i, 1), token));
}
} // namespace

TEST_CASE("16-bit ring indices wrap around past 65535", "[conformance][virtqueue][2.7.6]")
{
    Guest<EchoDevice> g{uint16_t{4}};
    g.bring_up(kV1, 4);
    const GuestAddr out = *g.alloc.alloc(64);
    const GuestAddr in = *g.alloc.alloc(64);
    REQUIRE(g.mem.write_obj(out, uint32_t{0x01020304}));
    for (uint32_t i = 1; i <= 70000; ++i) {
        add_echo(g, out, in, 4, i);
        g.driver.kick(0);
        g.run();
        const auto used = g.vq().get_buf();
        REQUIRE(used);
        REQUIRE(used->token == i);
        REQUIRE(used->len == 4);
    }
    CHECK(g.device.chains == 70000);
    CHECK(g.device.queue_slot(0)->ring->indices().next_avail == static_cast<uint16_t>(70000));
    CHECK(*g.mem.read_obj<uint32_t>(in) == (0x01020304u ^ 0x5a5a5a5au));
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("a chain through an indirect table reaches the device in order", "[conformance][virtqueue][2.7.5.3]")
{
    Guest<EchoDevice> g;
    g.bring_up(kV1 | kIndirect);
    const GuestAddr out1 = *g.alloc.alloc(8), out2 = *g.alloc.alloc(8), in = *g.alloc.alloc(16);
    REQUIRE(g.mem.write_obj(out1, uint64_t{0x1111111111111111}));
    REQUIRE(g.mem.write_obj(out2, uint64_t{0x2222222222222222}));
    const guest::virtio_drivers::Buf outs[] = {{out1, 8}, {out2, 8}};
    const guest::virtio_drivers::Buf ins[] = {{in, 16}};
    REQUIRE(g.vq().add(outs, ins, 1));
    CHECK(g.vq().num_free() == g.vq().size() - 1); // one ring slot for three buffers: it went indirect
    g.driver.kick(0);
    g.run();
    const auto used = g.vq().get_buf();
    REQUIRE(used);
    CHECK(used->len == 16);
    CHECK(*g.mem.read_obj<uint64_t>(in) == (0x1111111111111111ull ^ 0x5a5a5a5a5a5a5a5aull));
    CHECK(*g.mem.read_obj<uint64_t>(GuestAddr(in.value() + 8)) == (0x2222222222222222ull ^ 0x5a5a5a5a5a5a5a5aull));
    CHECK(g.vq().num_free() == g.vq().size());
}

TEST_CASE("direct descriptors followed by one indirect descriptor form one chain", "[conformance][virtqueue][2.7.5.3.2]")
{
    // §2.7.5.3.2: "The device MUST handle the case of zero or more normal chained descriptors followed by
    // a single descriptor with flags&VIRTQ_DESC_F_INDIRECT."
    Guest<EchoDevice> g;
    g.bring_up(kV1 | kIndirect, 8);
    RingWriter ring(g.mem, g.vq().desc_addr(), g.vq().driver_area(), 8);
    const GuestAddr data = *g.alloc.alloc(4096, 4096);
    const GuestAddr table = *g.alloc.alloc(32, 16);
    REQUIRE(g.mem.write_obj(data, uint32_t{0xabcdef01}));
    ring.desc(0, data.value(), 4, wire::kDescFNext, 1);
    ring.desc(1, table.value(), 16, wire::kDescFIndirect | wire::kDescFWrite); // WRITE here is ignored
    ring.desc_at(table, 0, data.value() + 1024, 4, wire::kDescFWrite);
    ring.publish(0);
    g.driver.notify(0);
    g.run();
    CHECK_FALSE(g.needs_reset());
    CHECK(g.device.chains == 1);
    CHECK(*g.mem.read_obj<uint32_t>(GuestAddr(data.value() + 1024)) == (0xabcdef01u ^ 0x5a5a5a5au));
}

TEST_CASE("a buffer straddling two adjacent RAM regions is one buffer to the device", "[conformance][virtqueue]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}, {GuestAddr(0x10000), 0x10000}});
    REQUIRE(mem);
    auto q = virtio::SplitQueue::create(*mem, 4, {GuestAddr(0), GuestAddr(0x100), GuestAddr(0x200), false, false});
    REQUIRE(q);
    RingWriter ring(*mem, GuestAddr(0), GuestAddr(0x100), 4);
    ring.desc(0, 0xfff0, 32);
    ring.publish(0);
    for (uint8_t i = 0; i < 32; ++i)
        REQUIRE(mem->write_obj(GuestAddr(0xfff0 + i), i));
    auto chain = q->pop();
    REQUIRE(chain);
    REQUIRE(*chain);
    CHECK((*chain)->readable().size() == 2);
    virtio::ChainReader reader(**chain);
    uint8_t bytes[32];
    REQUIRE(reader.read(bytes));
    for (uint8_t i = 0; i < 32; ++i)
        CHECK(bytes[i] == i);
    q->push_used(std::move(**chain), 0);
}

TEST_CASE("a descriptor table rewritten after pop does not change the popped chain", "[conformance][virtqueue]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}});
    REQUIRE(mem);
    auto q = virtio::SplitQueue::create(*mem, 4, {GuestAddr(0), GuestAddr(0x100), GuestAddr(0x200), false, false});
    REQUIRE(q);
    RingWriter ring(*mem, GuestAddr(0), GuestAddr(0x100), 4);
    ring.desc(0, 0x1000, 16, wire::kDescFWrite);
    ring.publish(0);
    auto chain = q->pop();
    REQUIRE((chain && *chain));
    ring.desc(0, 0xfff0, 0xffff, wire::kDescFWrite); // a hostile rewrite
    CHECK((*chain)->writable_bytes() == 16);
    virtio::ChainWriter w(**chain);
    CHECK(w.fill(0xee, 16));
    CHECK_FALSE(w.fill(0xee, 1));
    q->push_used(std::move(**chain), 16);
}

TEST_CASE("VIRTQ_AVAIL_F_NO_INTERRUPT suppresses used-buffer interrupts without EVENT_IDX", "[conformance][virtqueue][2.7.7]")
{
    Guest<EchoDevice> g;
    g.bring_up(kV1);
    const GuestAddr out = *g.alloc.alloc(16), in = *g.alloc.alloc(16);
    g.vq().disable_cb();
    for (int i = 1; i <= 10; ++i) {
        add_echo(g, out, in, 16, i);
        g.driver.kick(0);
        g.run();
    }
    CHECK(g.device.chains == 10);
    CHECK(g.driver.interrupts_taken() == 0);
    CHECK_FALSE(g.vq().enable_cb()); // buffers were used meanwhile
    add_echo(g, out, in, 16, 11);
    g.driver.kick(0);
    g.run();
    CHECK(g.driver.interrupts_taken() == 1);
}

TEST_CASE("used_event asks for one interrupt per batch with EVENT_IDX", "[conformance][virtqueue][2.7.7]")
{
    Guest<EchoDevice> g;
    g.bring_up(kV1 | kEventIdx);
    const GuestAddr out = *g.alloc.alloc(16), in = *g.alloc.alloc(16);
    // The driver reaps nothing, so used_event stays at 0: only the first push crosses it.
    for (int i = 1; i <= 32; ++i)
        add_echo(g, out, in, 16, i);
    g.driver.kick(0);
    g.run();
    CHECK(g.device.chains == 32);
    CHECK(g.driver.interrupts_taken() == 1);
    // Reaping moves used_event to the next index, so the next batch interrupts once more.
    while (g.vq().get_buf()) {
    }
    for (int i = 33; i <= 40; ++i)
        add_echo(g, out, in, 16, i);
    g.driver.kick(0);
    g.run();
    CHECK(g.driver.interrupts_taken() == 2);
}

TEST_CASE("avail_event suppresses driver notifications with EVENT_IDX", "[conformance][virtqueue][2.7.10]")
{
    Guest<EchoDevice> g;
    g.bring_up(kV1 | kEventIdx);
    const GuestAddr out = *g.alloc.alloc(16), in = *g.alloc.alloc(16);
    // avail_event starts at 0: the first kick is wanted.
    add_echo(g, out, in, 16, 1);
    CHECK(g.vq().kick_prepare());
    // Nothing was consumed: avail_event is still 0, so adding index 1 -> 2 needs no notification.
    add_echo(g, out, in, 16, 2);
    CHECK_FALSE(g.vq().kick_prepare());
    // The device pops both and publishes avail_event = 2: the next add crosses it.
    g.driver.notify(0);
    g.run();
    add_echo(g, out, in, 16, 3);
    CHECK(g.vq().kick_prepare());
}

TEST_CASE("VIRTQ_USED_F_NO_NOTIFY tells the driver not to kick", "[conformance][virtqueue][2.7.10]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}});
    REQUIRE(mem);
    auto q = virtio::SplitQueue::create(*mem, 4, {GuestAddr(0), GuestAddr(0x100), GuestAddr(0x200), false, false});
    REQUIRE(q);
    q->set_notification(false);
    CHECK(mem->read_obj<virtio::le16>(GuestAddr(0x200))->get() == wire::kUsedFNoNotify);
    q->set_notification(true);
    CHECK(mem->read_obj<virtio::le16>(GuestAddr(0x200))->get() == 0);
}

TEST_CASE("an unpopped chain is popped again", "[unit][virtqueue]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}});
    REQUIRE(mem);
    auto q = virtio::SplitQueue::create(*mem, 4, {GuestAddr(0), GuestAddr(0x100), GuestAddr(0x200), false, false});
    REQUIRE(q);
    RingWriter ring(*mem, GuestAddr(0), GuestAddr(0x100), 4);
    ring.desc(2, 0x1000, 16, wire::kDescFWrite);
    ring.publish(2);
    auto first = q->pop();
    REQUIRE((first && *first));
    q->unpop(std::move(**first));
    auto again = q->pop();
    REQUIRE((again && *again));
    CHECK((*again)->head() == 2);
    q->push_used(std::move(**again), 0);
    auto none = q->pop();
    REQUIRE(none);
    CHECK_FALSE(*none);
}

TEST_CASE("the used length never exceeds the writable part", "[conformance][virtqueue][2.7.8.2]")
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(0), 0x10000}});
    REQUIRE(mem);
    auto q = virtio::SplitQueue::create(*mem, 4, {GuestAddr(0), GuestAddr(0x100), GuestAddr(0x200), false, false});
    REQUIRE(q);
    RingWriter ring(*mem, GuestAddr(0), GuestAddr(0x100), 4);
    ring.desc(0, 0x1000, 16, wire::kDescFWrite);
    ring.publish(0);
    auto chain = q->pop();
    REQUIRE((chain && *chain));
    q->push_used(std::move(**chain), 1000);
    CHECK(mem->read_obj<wire::UsedElem>(GuestAddr(0x200 + 4))->len.get() == 16);
}
