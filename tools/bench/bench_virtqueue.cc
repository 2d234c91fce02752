// Virtqueue throughput, split (§2.7) and packed (§2.8): pop + push of 1- and 3-descriptor chains on one
// core, against a walk of the same ring memory with no checks at all (the limit of what any
// implementation could do).
#include <cstring>

#include <benchmark/benchmark.h>

#include "virtio/packed_queue.h"
#include "virtio/split_queue.h"
#include "virtio/wire/packed_ring.h"
#include "virtio/wire/ring.h"

namespace {

using namespace viommu;
namespace wire = viommu::virtio::wire;

constexpr uint32_t kSize = 256;
constexpr uint64_t kDesc = 0x0, kAvail = 0x1000, kUsed = 0x2000, kData = 0x10000;

// 1 MiB of guest RAM at 0, and its host view.
struct Ram {
    virtio::GuestMemory mem = std::move(*virtio::GuestMemory::create({{GuestAddr(0), 1 << 20}}));
    uint8_t* base = mem.slice(GuestAddr(0), 1 << 20)->data();
};

// The flags of descriptor i of a chain of len: chains of 3 are two readable (header, payload) then one
// writable (status), like a request.
uint16_t chain_flags(uint32_t i, uint32_t len)
{
    const bool last = i + 1 == len;
    return static_cast<uint16_t>((last ? 0 : wire::kDescFNext) | (last && len > 1 ? wire::kDescFWrite : 0));
}

// A ring whose descriptors are written once: head h is a chain of `len` descriptors starting at
// h * len; the driver side only republishes heads, as a driver recycling its buffers would.
struct Ring : Ram {
    uint32_t chain_len;
    uint32_t heads;
    uint16_t avail_idx = 0;

    explicit Ring(uint32_t len) : chain_len(len), heads(kSize / len)
    {
        for (uint32_t h = 0; h < heads; ++h) {
            for (uint32_t i = 0; i < len; ++i) {
                const uint32_t d = h * len + i;
                const wire::Desc desc{kData + d * 64, 64, chain_flags(i, len), static_cast<uint16_t>(d + 1)};
                std::memcpy(base + kDesc + 16 * d, &desc, sizeof desc);
            }
        }
    }
    // Driver side: make the next head available.
    void publish()
    {
        const uint16_t head = static_cast<uint16_t>((avail_idx % heads) * chain_len);
        const virtio::le16 h(head);
        std::memcpy(base + kAvail + wire::avail_ring_entry_offset(avail_idx % kSize), &h, 2);
        ++avail_idx;
        const virtio::le16 idx(avail_idx);
        std::memcpy(base + kAvail + 2, &idx, 2);
    }
};

// The device side of either ring format: the driver publishes a chain, the queue pops and uses it.
template <class Queue, class DriverRing>
void pop_push(benchmark::State& state, DriverRing& ring, Expected<Queue, virtio::QueueError>& q)
{
    if (!q) {
        state.SkipWithError("queue setup failed");
        return;
    }
    std::optional<virtio::DescriptorChain> chain;
    for (auto _ : state) {
        ring.publish();
        auto popped = q->pop_into(chain);
        if (!popped || !*popped) {
            state.SkipWithError("pop failed");
            return;
        }
        benchmark::DoNotOptimize(chain->readable_bytes());
        q->push_used(std::move(*chain), 0);
    }
    state.SetItemsProcessed(state.iterations());
}

void ours(benchmark::State& state)
{
    Ring ring(static_cast<uint32_t>(state.range(0)));
    auto q = virtio::SplitQueue::create(ring.mem, kSize,
                                        {GuestAddr(kDesc), GuestAddr(kAvail), GuestAddr(kUsed), false, false});
    pop_push(state, ring, q);
}

// The same ring, walked the way a device that trusted its guest would: no index, range, loop, order or
// RAM check, no copy of the segments.
void baseline(benchmark::State& state)
{
    Ring ring(static_cast<uint32_t>(state.range(0)));
    uint16_t next_avail = 0, used_idx = 0;
    for (auto _ : state) {
        ring.publish();
        uint16_t avail_idx;
        std::memcpy(&avail_idx, ring.base + kAvail + 2, 2);
        benchmark::DoNotOptimize(avail_idx);
        uint16_t head;
        std::memcpy(&head, ring.base + kAvail + wire::avail_ring_entry_offset(next_avail % kSize), 2);
        ++next_avail;
        uint64_t bytes = 0;
        uint16_t i = head;
        for (;;) {
            // Native integers straight from the ring: the layout of struct vring_desc.
            const uint8_t* d = ring.base + kDesc + 16 * i;
            uint64_t addr;
            uint32_t len;
            uint16_t flags, next;
            std::memcpy(&addr, d, 8);
            std::memcpy(&len, d + 8, 4);
            std::memcpy(&flags, d + 12, 2);
            std::memcpy(&next, d + 14, 2);
            bytes += len;
            benchmark::DoNotOptimize(ring.base + addr);
            if (!(flags & wire::kDescFNext))
                break;
            i = next;
        }
        benchmark::DoNotOptimize(bytes);
        const uint32_t elem[2] = {head, 0};
        std::memcpy(ring.base + kUsed + wire::used_ring_entry_offset(used_idx % kSize), elem, sizeof elem);
        ++used_idx;
        std::memcpy(ring.base + kUsed + 2, &used_idx, 2);
    }
    state.SetItemsProcessed(state.iterations());
}

// A packed ring (§2.8) the driver side refills as it goes: each chain's descriptors are written at the
// driver's next positions with the AVAIL/USED bits of its wrap counter, the first one's flags last, as
// Linux's virtqueue_add_packed() does. A packed driver must write them each time: the device overwrote
// them with used descriptors.
struct PackedRing : Ram {
    static constexpr uint64_t kDriverEvent = 0x1000, kDeviceEvent = 0x1004;
    uint32_t chain_len;
    uint32_t next = 0;
    bool wrap = true;
    uint16_t id = 0;

    explicit PackedRing(uint32_t len) : chain_len(len) {}
    void publish()
    {
        const uint32_t first = next;
        uint16_t first_flags = 0;
        for (uint32_t i = 0; i < chain_len; ++i) {
            const uint16_t flags =
                static_cast<uint16_t>(chain_flags(i, chain_len) | (wrap ? wire::kPackedDescFAvail : wire::kPackedDescFUsed));
            const wire::PackedDesc desc{kData + next * 64, 64, id, i == 0 ? uint16_t{0} : flags};
            std::memcpy(base + kDesc + 16 * next, &desc, sizeof desc);
            if (i == 0)
                first_flags = flags;
            if (++next == kSize) {
                next = 0;
                wrap = !wrap;
            }
        }
        const virtio::le16 f(first_flags);
        std::memcpy(base + kDesc + 16 * first + offsetof(wire::PackedDesc, flags), &f, 2);
        ++id;
    }
};

void ours_packed(benchmark::State& state)
{
    PackedRing ring(static_cast<uint32_t>(state.range(0)));
    auto q = virtio::PackedQueue::create(
        ring.mem, kSize, {GuestAddr(kDesc), GuestAddr(PackedRing::kDriverEvent), GuestAddr(PackedRing::kDeviceEvent), false, false});
    pop_push(state, ring, q);
}

// The same packed ring walked by a device that trusted its guest: it checks only the AVAIL bit that says
// a chain is there, and none of the chain.
void baseline_packed(benchmark::State& state)
{
    PackedRing ring(static_cast<uint32_t>(state.range(0)));
    uint32_t next_avail = 0, used = 0;
    bool avail_wrap = true, used_wrap = true;
    for (auto _ : state) {
        ring.publish();
        uint16_t flags;
        std::memcpy(&flags, ring.base + kDesc + 16 * next_avail + 14, 2);
        if (((flags & wire::kPackedDescFAvail) != 0) != avail_wrap) {
            state.SkipWithError("nothing available");
            return;
        }
        uint64_t bytes = 0;
        uint32_t n = 0;
        uint16_t id = 0;
        for (;;) {
            // Native integers straight from the ring: the layout of struct vring_packed_desc.
            const uint8_t* d = ring.base + kDesc + 16 * next_avail;
            uint64_t addr;
            uint32_t len;
            std::memcpy(&addr, d, 8);
            std::memcpy(&len, d + 8, 4);
            std::memcpy(&id, d + 12, 2);
            std::memcpy(&flags, d + 14, 2);
            bytes += len;
            ++n;
            benchmark::DoNotOptimize(ring.base + addr);
            if (++next_avail == kSize) {
                next_avail = 0;
                avail_wrap = !avail_wrap;
            }
            if (!(flags & wire::kDescFNext))
                break;
        }
        benchmark::DoNotOptimize(bytes);
        uint8_t* u = ring.base + kDesc + 16 * used;
        const uint32_t zero = 0;
        std::memcpy(u + 8, &zero, 4);
        std::memcpy(u + 12, &id, 2);
        const uint16_t used_flags = used_wrap ? (wire::kPackedDescFAvail | wire::kPackedDescFUsed) : 0;
        std::memcpy(u + 14, &used_flags, 2);
        used += n;
        if (used >= kSize) {
            used -= kSize;
            used_wrap = !used_wrap;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(ours)->Name("virtqueue/ours/pop_push")->Arg(1)->Arg(3)->ArgName("descs");
BENCHMARK(baseline)->Name("virtqueue/baseline/pop_push")->Arg(1)->Arg(3)->ArgName("descs");
BENCHMARK(ours_packed)->Name("virtqueue/ours/packed_pop_push")->Arg(1)->Arg(3)->ArgName("descs");
BENCHMARK(baseline_packed)->Name("virtqueue/baseline/packed_pop_push")->Arg(1)->Arg(3)->ArgName("descs");

} // namespace
