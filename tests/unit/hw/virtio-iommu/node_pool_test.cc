// The mapping stores' node pool: slots on 2 MiB chunks, given back to the system once none is in use.
#include <catch2/catch.hpp>

#include <cstdint>
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
