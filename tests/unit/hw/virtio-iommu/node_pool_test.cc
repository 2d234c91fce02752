// The mapping stores' node pool: slots on 2 MiB chunks, given back to the system once none is in use.
#include <catch2/catch.hpp>

#include <cstdint>
#include <sanitizer/asan_interface.h>
#include <set>
#include <vector>

#include "hw/virtio-iommu/node_pool.h"

using viommu::hw::virtio_iommu::NodePool;

TEST_CASE("a pool's slots are cache-line aligned and distinct, a chunk's worth at a time", "[unit][node-pool]")
{
    NodePool p(1088);
    std::set<void*> seen;
    for (int i = 0; i < 5000; ++i) {
        void* s = p.take();
        CHECK(reinterpret_cast<std::uintptr_t>(s) % NodePool::kAlign == 0);
        REQUIRE(seen.insert(s).second);
    }
    // A chunk holds 1,927 slots of 1,088 bytes: 5,000 take three.
    CHECK(p.bytes() == 3 * NodePool::kChunkBytes);
}

TEST_CASE("a slot given back is taken again before the pool grows", "[unit][node-pool]")
{
    NodePool p(64);
    std::vector<void*> slots;
    for (int i = 0; i < 100; ++i)
        slots.push_back(p.take());
    p.give(slots[10]);
    p.give(slots[20]);
    CHECK(p.take() == slots[20]);
    CHECK(p.take() == slots[10]);
    CHECK(p.bytes() == NodePool::kChunkBytes);
}

TEST_CASE("a pool gives its chunks back when no slot is in use", "[unit][node-pool]")
{
    NodePool p(1024);
    std::vector<void*> slots;
    for (int i = 0; i < 3000; ++i)
        slots.push_back(p.take());
    CHECK(p.bytes() == 2 * NodePool::kChunkBytes);
    for (std::size_t i = 0; i + 1 < slots.size(); ++i)
        p.give(slots[i]);
    // One slot in use keeps everything: the pool is bounded by its peak, not by what is in use.
    CHECK(p.bytes() == 2 * NodePool::kChunkBytes);
    p.give(slots.back());
    CHECK(p.bytes() == 0);
    // And grows again from nothing.
    (void)p.take();
    CHECK(p.bytes() == NodePool::kChunkBytes);
}

#if defined(__SANITIZE_ADDRESS__)
#define VIOMMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIOMMU_ASAN 1
#endif
#endif

#ifdef VIOMMU_ASAN
TEST_CASE("under AddressSanitizer, only the slots in use are addressable", "[unit][node-pool]")
{
    NodePool p(1088);
    void* a = p.take();
    void* b = p.take();
    CHECK(__asan_region_is_poisoned(a, 1088) == nullptr);
    // Past the slots handed out, and a slot given back, a node's use after free is reported.
    char* const past = static_cast<char*>(b) + 1088;
    CHECK(__asan_address_is_poisoned(past));
    p.give(a);
    CHECK(__asan_address_is_poisoned(a));
    CHECK(__asan_address_is_poisoned(static_cast<char*>(a) + 1087));
    CHECK(p.take() == a);
    CHECK(__asan_region_is_poisoned(a, 1088) == nullptr);
    p.give(a);
    p.give(b);
}
#endif
