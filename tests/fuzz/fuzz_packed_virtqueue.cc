// fuzz-packed-virtqueue: the input sets up a packed virtqueue (virtio v1.2 §2.8) of any size from 1 to 64
// in guest RAM, with or without INDIRECT_DESC and EVENT_IDX, then plays a driver that writes descriptors
// into the ring (marked available on either pass, or with any flags) and into indirect tables anywhere,
// notifies, and resets the device. The device takes one list per notification, writes a pattern into
// its writable part and uses it. After every notification:
//   - a list the spec's rules accept (packed_oracle.h) was used: the device saw its Buffer ID and byte
//     counts, moved both positions on by its ring descriptors, wrote a used descriptor with that ID, a
//     length no larger than the writable part and AVAIL = USED = its wrap counter, and wrote nothing
//     else but the writable buffers and its event suppression area;
//   - a list those rules refuse made the device enter NEEDS_RESET without writing anything;
//   - with nothing available, or once the device gave up, nothing moved and nothing was written.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "tests/fuzz/finding.h"
#include "tests/fuzz/fuzz_bytes.h"
#include "tests/fuzz/fuzz_ram.h"
#include "tests/fuzz/packed_oracle.h"
#include "tests/fuzz/ring_scenario.h"
#include "virtio/chain_io.h"
#include "virtio/device_base.h"
#include "virtio/wire/packed_ring.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace wire = viommu::virtio::wire;

namespace {

constexpr uint16_t kMaxQueue = 64;
constexpr uint64_t kDesc = RamLayout::kA;                 // up to 64 * 16 bytes
constexpr uint64_t kDriverArea = RamLayout::kA + 0x2000; // driver event suppression
constexpr uint64_t kDeviceArea = RamLayout::kA + 0x2004; // device event suppression

// Takes one list per notification: writes 0xa5 into at most `write_limit` bytes of its writable part and
// uses it, remembering what it saw.
class OneListDevice final : public virtio::DeviceBase {
public:
    explicit OneListDevice(virtio::GuestMemory& mem)
        : DeviceBase("fuzz-packed", 0x7ffd, mem,
                     virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFIndirectDesc) |
                         virtio::feature(virtio::kFEventIdx) | virtio::feature(virtio::kFRingPacked),
                     {kMaxQueue})
    {
    }
    uint32_t write_limit = 0;
    struct Seen {
        uint16_t id;
        uint64_t readable, writable;
    };
    std::optional<Seen> seen;

private:
    void on_queue_notify(unsigned q) override
    {
        std::optional<virtio::DescriptorChain> chain;
        if (!pop(q, chain))
            return;
        seen = Seen{chain->head(), chain->readable_bytes(), chain->writable_bytes()};
        virtio::ChainWriter out(*chain);
        static const std::vector<uint8_t> pattern(4096, 0xa5);
        uint64_t left = write_limit;
        while (left > 0 && out.remaining() > 0) {
            const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>({left, out.remaining(), pattern.size()}));
            (void)out.write(std::span(pattern).first(n));
            left -= n;
        }
        push(q, std::move(*chain), static_cast<uint32_t>(out.written()));
        notify_used(q);
    }
};

// A position with its wrap counter in bit 15 (QueueIndices of a packed ring).
struct Position {
    uint32_t pos;
    bool wrap;
    explicit Position(uint16_t encoded) : pos(encoded & 0x7fff), wrap(encoded >> 15) {}
    Position after(uint32_t n, uint32_t size) const
    {
        Position p = *this;
        p.pos += n;
        if (p.pos >= size) {
            p.pos -= size;
            p.wrap = !p.wrap;
        }
        return p;
    }
    bool operator==(const Position&) const = default;
};

class Harness {
public:
    Harness(uint32_t size, bool indirect, bool event_idx)
        : mem_(ram_.memory()), device_(mem_), ring_{size, kDesc, indirect}, event_idx_(event_idx)
    {
        set_up();
    }

    // The device from reset to DRIVER_OK with queue 0 a packed ring, as a driver brings it up.
    void set_up()
    {
        device_.set_status(0);
        device_.set_status(virtio::status::kAcknowledge | virtio::status::kDriver);
        virtio::FeatureBits f = virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFRingPacked);
        if (ring_.indirect)
            f |= virtio::feature(virtio::kFIndirectDesc);
        if (event_idx_)
            f |= virtio::feature(virtio::kFEventIdx);
        (void)device_.set_driver_features(f);
        device_.set_status(virtio::status::kAcknowledge | virtio::status::kDriver | virtio::status::kFeaturesOk);
        // §2.8.13: "The descriptor ring is zero-initialized": a driver setting the queue up again starts
        // from an empty ring (else DRIVER_OK would have the device take what the last one left there).
        (void)ram_.fill(GuestAddr(kDesc), 0, 16ull * ring_.size);
        (void)ram_.fill(GuestAddr(kDriverArea), 0, 2 * sizeof(wire::EventSuppress));
        virtio::QueueSlot& q = *device_.queue_slot(0);
        q.size = ring_.size;
        q.desc = GuestAddr(kDesc);
        q.driver = GuestAddr(kDriverArea);
        q.device = GuestAddr(kDeviceArea);
        device_.set_queue_ready(0, true);
        device_.set_status(device_.status() | virtio::status::kDriverOk);
        if (!q.ready || device_.broken())
            finding(fmt::format("a valid packed ring of {} was refused: {}", ring_.size, device_.failure_reason()));
    }

    void write_desc(uint64_t at, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
    {
        (void)ram_.write_obj(GuestAddr(at), wire::PackedDesc{addr, len, id, flags});
    }
    uint32_t size() const { return ring_.size; }

    void notify_and_check(uint32_t write_limit)
    {
        const bool was_broken = device_.broken();
        const virtio::Virtqueue* ring = device_.queue_slot(0)->ring ? &*device_.queue_slot(0)->ring : nullptr;
        if (!ring)
            finding("the packed ring is gone while the device is set up");
        const Position avail(ring->indices().next_avail), used(ring->indices().used_idx);
        const PackedWalk walk = walk_packed_list(mem_, ring_, avail.pos, avail.wrap);
        device_.write_limit = write_limit;
        device_.seen.reset();
        device_.queue_notify(0);
        const auto& writes = ram_.take_device_writes();

        const Position avail_now(ring->indices().next_avail), used_now(ring->indices().used_idx);
        const bool moved = !(avail_now == avail) || !(used_now == used);
        if (was_broken || walk.verdict == PackedWalk::Verdict::kNothing) {
            if (moved || device_.seen || outside(writes, {}))
                finding(was_broken ? "a device that gave up used the queue" : "the device used a list that is not available");
            if (!was_broken && device_.broken())
                finding("the device gave up with nothing available: " + device_.failure_reason());
            return;
        }
        if (walk.verdict == PackedWalk::Verdict::kRefused) {
            if (!device_.broken() || moved || device_.seen || outside(writes, {}))
                finding(fmt::format("a list the spec refuses ({}) was used or did not stop the device", walk.why_not));
            return;
        }
        if (device_.broken() || !device_.seen)
            finding(fmt::format("a valid list (id {}, {} readable, {} writable bytes) was not used: {}", walk.id,
                                walk.readable, walk.writable, device_.failure_reason()));
        if (device_.seen->id != walk.id || device_.seen->readable != walk.readable || device_.seen->writable != walk.writable)
            finding(fmt::format("the device saw id {} with {}/{} bytes, the rules id {} with {}/{}", device_.seen->id,
                                device_.seen->readable, device_.seen->writable, walk.id, walk.readable, walk.writable));
        if (!(avail_now == avail.after(walk.slots, ring_.size)) || !(used_now == used.after(walk.slots, ring_.size)))
            finding(fmt::format("a list of {} ring descriptors moved the positions from {}/{} to {}/{}", walk.slots,
                                avail.pos, used.pos, avail_now.pos, used_now.pos));
        const auto d = mem_.read_obj<wire::PackedDesc>(GuestAddr(kDesc + 16ull * used.pos));
        const uint16_t both = wire::kPackedDescFAvail | wire::kPackedDescFUsed;
        if (d->id.get() != walk.id || d->len.get() > walk.writable || (d->flags.get() & both) != (used.wrap ? both : 0))
            finding(fmt::format("used descriptor {{id {}, len {}, flags {:#x}}} for id {} with {} writable bytes on pass {}",
                                d->id.get(), d->len.get(), d->flags.get(), walk.id, walk.writable, used.wrap));
        std::vector<GuestRange> allowed = walk.writable_buffers;
        allowed.push_back({kDesc + 16ull * used.pos + 8, 8}); // the used descriptor's len, id and flags
        allowed.push_back({kDeviceArea, sizeof(wire::EventSuppress)});
        if (const auto at = outside(writes, allowed))
            finding(fmt::format("the device wrote at {:#x}, outside the list's writable buffers, its used descriptor "
                                "and its event suppression area",
                                *at));
    }

private:
    WatchedRam ram_;
    virtio::GuestMemory& mem_;
    OneListDevice device_;
    PackedRing ring_;
    bool event_idx_;
};

// The flags a written descriptor gets: as the input says, or its NEXT/WRITE/INDIRECT bits marked
// available on the first or the second pass (what most lists need, and a fuzzer rarely guesses).
uint16_t flags_for(uint8_t mode, uint16_t raw)
{
    const uint16_t kinds = raw & (wire::kDescFNext | wire::kDescFWrite | wire::kDescFIndirect);
    switch (mode % 3) {
    case 1: return kinds | wire::kPackedDescFAvail;
    case 2: return kinds | wire::kPackedDescFUsed;
    default: return raw;
    }
}

// The input: a byte for the queue size (1 + b % 64), a byte of features (bit 0 INDIRECT_DESC, bit 1
// EVENT_IDX), then operations, each a kind byte (% 4) and its fields, little-endian; an address is
// decode_address()'s (ring_scenario.h):
//   0 ring descriptor: mode u8 (flags_for()), position u16 (% size), address, len u32, id u16, flags u16
//   1 table entry: table address, index u8, address, len u32, flags u16
//   2 notify: how many bytes the device writes at most, u16
//   3 reset, and the queue set up again
enum Kind : uint8_t { kRingDesc, kTableDesc, kNotify, kReset, kKinds };
constexpr std::size_t kMaxOps = 512;

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    ByteReader r({data, size});
    const uint32_t queue_size = 1 + r.u8() % kMaxQueue;
    const uint8_t features = r.u8();
    Harness h(queue_size, features & 1, features & 2);
    for (std::size_t ops = 0; !r.empty() && ops < kMaxOps; ++ops) {
        switch (r.u8() % kKinds) {
        case kRingDesc: {
            const uint8_t mode = r.u8();
            const uint16_t pos = r.u16();
            const uint64_t addr = decode_address(r);
            const uint32_t len = r.u32();
            const uint16_t id = r.u16();
            h.write_desc(kDesc + 16ull * (pos % h.size()), addr, len, id, flags_for(mode, r.u16()));
            break;
        }
        case kTableDesc: {
            const uint64_t table = decode_address(r);
            const uint8_t index = r.u8();
            const uint64_t addr = decode_address(r);
            const uint32_t len = r.u32();
            h.write_desc(table + 16ull * index, addr, len, 0, r.u16());
            break;
        }
        case kNotify: h.notify_and_check(r.u16()); break;
        default: h.set_up(); break;
        }
    }
    return 0;
}
