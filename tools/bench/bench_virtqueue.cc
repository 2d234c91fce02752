// Split virtqueue throughput: pop + push of 1- and 3-descriptor chains on one core, against a walk of
// the same ring memory with no checks at all (the limit of what any implementation could do).
#include <cstring>

#include <benchmark/benchmark.h>

#include "virtio/split_queue.h"
#include "virtio/wire/ring.h"

namespace {

using namespace viommu;
namespace wire = viommu::virtio::wire;

constexpr uint32_t kSize = 256;
constexpr uint64_t kDesc = 0x0, kAvail = 0x1000, kUsed = 0x2000, kData = 0x10000;

// A ring whose descriptors are written once: head h is a chain of `len` descriptors starting at
// h * len; the driver side only republishes heads, as a driver recycling its buffers would.
struct Ring {
    virtio::GuestMemory mem = std::move(*virtio::GuestMemory::create({{GuestAddr(0), 1 << 20}}));
    uint8_t* base = mem.slice(GuestAddr(0), 1 << 20)->data();
    uint32_t chain_len;
    uint32_t heads;
    uint16_t avail_idx = 0;

    explicit Ring(uint32_t len) : chain_len(len), heads(kSize / len)
    {
        for (uint32_t h = 0; h < heads; ++h) {
            for (uint32_t i = 0; i < len; ++i) {
                const uint32_t d = h * len + i;
                const bool last = i + 1 == len;
                // Chains of 3: two readable (header, payload) then one writable (status), like a request.
                const uint16_t flags = static_cast<uint16_t>((last ? 0 : wire::kDescFNext) | (last && len > 1 ? wire::kDescFWrite : 0));
                const wire::Desc desc{kData + d * 64, 64, flags, static_cast<uint16_t>(d + 1)};
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

void ours(benchmark::State& state)
{
    Ring ring(static_cast<uint32_t>(state.range(0)));
    auto q = virtio::SplitQueue::create(ring.mem, kSize,
                                        {GuestAddr(kDesc), GuestAddr(kAvail), GuestAddr(kUsed), false, false});
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

BENCHMARK(ours)->Name("virtqueue/ours/pop_push")->Arg(1)->Arg(3)->ArgName("descs");
BENCHMARK(baseline)->Name("virtqueue/baseline/pop_push")->Arg(1)->Arg(3)->ArgName("descs");

} // namespace
