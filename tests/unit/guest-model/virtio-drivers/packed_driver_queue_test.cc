// The guest's packed driver ring (PackedDriverQueue behind DriverQueue) against the device's PackedQueue:
// an EchoDevice offering VIRTIO_F_RING_PACKED behind virtio-mmio, brought up by the guest's driver.
#include <catch2/catch.hpp>

#include <array>
#include <cstring>

#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "tests/support/packed_fixture.h"
#include "virtio/wire/packed_ring.h"

using namespace viommu;
using namespace viommu::test;
using viommu::guest::virtio_drivers::AddError;
using viommu::guest::virtio_drivers::Buf;
namespace wire = viommu::virtio::wire;

namespace {

constexpr virtio::FeatureBits kV1 = virtio::feature(virtio::kFVersion1);
constexpr virtio::FeatureBits kPacked = virtio::feature(virtio::kFRingPacked);
constexpr virtio::FeatureBits kEventIdx = virtio::feature(virtio::kFEventIdx);
constexpr virtio::FeatureBits kIndirect = virtio::feature(virtio::kFIndirectDesc);

struct PackedDriverGuest {
    explicit PackedDriverGuest(uint16_t size, virtio::FeatureBits features) : g(size, kPackedEchoFeatures)
    {
        g.bring_up(features);
    }
    // Adds a request of `out` bytes and a reply buffer as a chain of n_out + n_in descriptors.
    Expected<void, AddError> add(uint8_t seed, std::size_t n_out, std::size_t n_in, uint64_t token, bool direct)
    {
        std::vector<Buf> out, in;
        for (std::size_t i = 0; i < n_out; ++i) {
            const GuestAddr a(req.value() + 16 * i);
            std::array<uint8_t, 16> bytes{};
            bytes.fill(static_cast<uint8_t>(seed + i));
            (void)g.mem.write(a, bytes);
            out.push_back({a, 16});
        }
        for (std::size_t i = 0; i < n_in; ++i)
            in.push_back({GuestAddr(rep.value() + 16 * i), 16});
        return direct ? g.vq().add_direct(out, in, token) : g.vq().add(out, in, token);
    }
    void kick()
    {
        g.driver.kick(0);
        g.run();
    }
    uint8_t reply(std::size_t offset) { return g.mem.read_obj<uint8_t>(GuestAddr(rep.value() + offset)).value_or(0); }
    wire::EventSuppress event(GuestAddr at) { return g.mem.read_obj<wire::EventSuppress>(at).value_or(wire::EventSuppress{}); }
    void set_device_event(uint16_t off_wrap, uint16_t flags)
    {
        (void)g.mem.write_obj(g.vq().device_area(), wire::EventSuppress{off_wrap, flags});
    }
    uint16_t desc_id(uint32_t slot)
    {
        return g.mem.read_obj<wire::PackedDesc>(GuestAddr(g.vq().desc_addr().value() + 16ull * slot))->id.get();
    }

    Guest<EchoDevice> g;
    GuestAddr req = *g.alloc.alloc(4096, 4096);
    GuestAddr rep = *g.alloc.alloc(4096, 4096);
};

} // namespace

TEST_CASE("the driver takes RING_PACKED and lays out a packed ring when the device offers it", "[guest][virtio-drivers][2.8]")
{
    PackedDriverGuest p(8, 0);
    CHECK(p.g.device.negotiated(virtio::kFRingPacked));
    CHECK(p.g.vq().packed());
    // The device area is the device's event structure, 4 bytes past the driver's (§2.8.10).
    CHECK(p.g.vq().device_area().value() == p.g.vq().driver_area().value() + 4);
}

TEST_CASE("a one-descriptor chain and a chain of several descriptors come back used", "[guest][virtio-drivers][2.8.6]")
{
    PackedDriverGuest p(8, kV1 | kPacked);
    REQUIRE(p.add(1, 1, 0, 11, true));
    p.kick();
    auto u = p.g.vq().get_buf();
    REQUIRE(u);
    CHECK(u->token == 11);
    CHECK(u->len == 0);
    REQUIRE(p.add(0x10, 2, 3, 12, true));
    CHECK(p.g.vq().num_free() == 3);
    p.kick();
    u = p.g.vq().get_buf();
    REQUIRE(u);
    CHECK(u->token == 12);
    CHECK(u->len == 32);
    CHECK(p.reply(0) == (0x10 ^ EchoDevice::kXor));
    CHECK(p.reply(16) == (0x11 ^ EchoDevice::kXor));
    CHECK(p.g.vq().num_free() == 8);
    CHECK_FALSE(p.g.vq().broken());
}

TEST_CASE("chains crossing the end of the ring wrap the counters many times", "[guest][virtio-drivers][2.8.1]")
{
    PackedDriverGuest p(8, kV1 | kPacked);
    for (int round = 0; round < 40; ++round) {
        const auto seed = static_cast<uint8_t>(round * 3);
        REQUIRE(p.add(seed, 1, 2, 100 + round, true));
        p.kick();
        const auto u = p.g.vq().get_buf();
        REQUIRE(u);
        CHECK(u->token == static_cast<uint64_t>(100 + round));
        CHECK(u->len == 16);
        CHECK(p.reply(0) == (seed ^ EchoDevice::kXor));
        CHECK_FALSE(p.g.vq().has_used());
    }
    // 120 descriptors through an 8-entry ring: 15 wraps.
    CHECK(p.g.vq().num_free() == 8);
    CHECK_FALSE(p.g.vq().broken());
    CHECK_FALSE(p.g.needs_reset());
}

TEST_CASE("with INDIRECT_DESC a chain of several buffers takes one descriptor", "[guest][virtio-drivers][2.8.7]")
{
    PackedDriverGuest p(8, kV1 | kPacked | kIndirect);
    REQUIRE(p.add(0x40, 2, 2, 7, false));
    CHECK(p.g.vq().num_free() == 7);
    const auto head = p.g.mem.read_obj<wire::PackedDesc>(p.g.vq().desc_addr());
    REQUIRE(head);
    CHECK((head->flags.get() & wire::kDescFIndirect) != 0);
    CHECK(head->len.get() == 4 * sizeof(wire::PackedDesc));
    p.kick();
    const auto u = p.g.vq().get_buf();
    REQUIRE(u);
    CHECK(u->token == 7);
    CHECK(u->len == 32);
    CHECK(p.reply(16) == (0x41 ^ EchoDevice::kXor));
    CHECK(p.g.vq().num_free() == 8);
}

TEST_CASE("buffer ids come from the free-id list and are reused after get_buf", "[guest][virtio-drivers][2.8.6]")
{
    PackedDriverGuest p(4, kV1 | kPacked);
    for (uint64_t t = 1; t <= 4; ++t)
        REQUIRE(p.add(0, 1, 0, t, true));
    CHECK(p.g.vq().num_free() == 0);
    CHECK(p.add(0, 1, 0, 5, true).error() == AddError::kNoSpace);
    p.kick();
    for (uint64_t t = 1; t <= 4; ++t) {
        const auto u = p.g.vq().get_buf();
        REQUIRE(u);
        CHECK(u->token == t);
    }
    CHECK(p.g.vq().num_free() == 4);
    // The last id freed (3) is the head of the list: the next buffer, at slot 0 again, carries it.
    REQUIRE(p.add(0, 1, 0, 6, true));
    CHECK(p.desc_id(0) == 3);
    p.kick();
    const auto u = p.g.vq().get_buf();
    REQUIRE(u);
    CHECK(u->token == 6);
}

TEST_CASE("kick_prepare follows the device's ENABLE and DISABLE flags without EVENT_IDX", "[guest][virtio-drivers][2.8.10]")
{
    PackedDriverGuest p(8, kV1 | kPacked);
    REQUIRE(p.add(0, 1, 0, 1, true));
    p.set_device_event(0, wire::kRingEventFlagsDisable);
    CHECK_FALSE(p.g.vq().kick_prepare());
    REQUIRE(p.add(0, 1, 0, 2, true));
    p.set_device_event(0, wire::kRingEventFlagsEnable);
    CHECK(p.g.vq().kick_prepare());
}

TEST_CASE("kick_prepare with EVENT_IDX kicks when the added descriptors pass the device's off_wrap", "[guest][virtio-drivers][2.8.10]")
{
    PackedDriverGuest p(8, kV1 | kPacked | kEventIdx);
    constexpr uint16_t kWrap = uint16_t{1} << wire::kEventWrapShift;
    REQUIRE(p.add(0, 1, 1, 1, true)); // slots 0, 1
    p.set_device_event(kWrap | 1, wire::kRingEventFlagsDesc);
    CHECK(p.g.vq().kick_prepare());
    REQUIRE(p.add(0, 1, 1, 2, true)); // slots 2, 3
    p.set_device_event(kWrap | 5, wire::kRingEventFlagsDesc);
    CHECK_FALSE(p.g.vq().kick_prepare());
    // An event position for the next lap (the other wrap counter) is not reached yet either.
    REQUIRE(p.add(0, 1, 0, 3, true)); // slot 4
    p.set_device_event(2, wire::kRingEventFlagsDesc);
    CHECK_FALSE(p.g.vq().kick_prepare());
}

TEST_CASE("disable_cb and enable_cb write the driver's event flags", "[guest][virtio-drivers][2.8.10]")
{
    PackedDriverGuest p(8, kV1 | kPacked);
    const GuestAddr driver = p.g.vq().driver_area();
    p.g.vq().disable_cb();
    CHECK(p.event(driver).flags.get() == wire::kRingEventFlagsDisable);
    REQUIRE(p.add(0, 1, 0, 1, true));
    p.kick();
    CHECK(p.g.callbacks == 0);
    // A used buffer is waiting: enable_cb() says to poll again.
    CHECK_FALSE(p.g.vq().enable_cb());
    CHECK(p.event(driver).flags.get() == wire::kRingEventFlagsEnable);
    REQUIRE(p.g.vq().get_buf());
    CHECK(p.g.vq().enable_cb());
}

TEST_CASE("with EVENT_IDX enable_cb asks for the next used descriptor through off_wrap", "[guest][virtio-drivers][2.8.10]")
{
    PackedDriverGuest p(4, kV1 | kPacked | kEventIdx);
    const GuestAddr driver = p.g.vq().driver_area();
    p.g.vq().disable_cb();
    for (uint64_t t = 1; t <= 5; ++t) { // five buffers through four slots: the used counter wraps
        REQUIRE(p.add(0, 1, 0, t, true));
        p.kick();
        REQUIRE(p.g.vq().get_buf());
    }
    CHECK(p.g.vq().enable_cb());
    const auto ev = p.event(driver);
    CHECK(ev.flags.get() == wire::kRingEventFlagsDesc);
    CHECK(ev.off_wrap.get() == 1); // slot 1, wrap counter 0
}
