// The host running out of memory is survived: the mapping store allocates before it changes anything,
// and the device answers an allocation failure in a request with NEEDS_RESET instead of aborting the
// process. tests/support/replaced_new.cc makes operator new fail on demand.
#include <catch2/catch.hpp>

#include <new>

#include "hw/virtio-iommu/mapping_store.h"
#include "hw/virtio-iommu/node_pool.h"
#include "tests/support/prepared_guest.h"
#include "tests/support/replaced_new.h"

using namespace viommu;
using hw::virtio_iommu::IovaRange;
using hw::virtio_iommu::Mapping;
using hw::virtio_iommu::MappingStore;

namespace {

Mapping page(uint64_t i) { return Mapping{IovaRange{Iova(i * 0x1000), Iova(i * 0x1000 + 0xfff)}, i, 1}; }

// Allocations fail from the first one while this lives.
struct NoMemory {
    NoMemory() { test::fail_allocations_after(0); }
    ~NoMemory() { test::allow_allocations(); }
};

} // namespace

TEST_CASE("a mapping store insert that cannot allocate throws and leaves the store as it was", "[unit][mapping-store]")
{
    // Enough mappings for a root over several leaves, then inserts that split a full leaf, and (at
    // some sizes) a full inner node: every size up to 5000 meets the failure once.
    MappingStore s;
    std::vector<Mapping> before;
    for (uint64_t i = 0; i < 5000; ++i) {
        const Mapping m = page(i * 2); // every other page, so later inserts land between them
        {
            NoMemory none;
            try {
                s.insert(m);
            } catch (const std::bad_alloc&) {
                REQUIRE(s.size() == i);
                REQUIRE(s.check_invariants());
                REQUIRE_FALSE(s.find(m.iova.first));
            }
        }
        if (s.size() == i)
            s.insert(m);
        REQUIRE(s.find(m.iova.first) == m);
    }
    // Inserts into the middle of full leaves: each either needs no node or fails cleanly.
    for (uint64_t i = 0; i < 5000; i += 7) {
        const Mapping m = page(i * 2 + 1);
        const std::size_t size = s.size();
        NoMemory none;
        try {
            s.insert(m);
            REQUIRE(s.size() == size + 1);
        } catch (const std::bad_alloc&) {
            REQUIRE(s.size() == size);
            REQUIRE_FALSE(s.find(m.iova.first));
        }
    }
    REQUIRE(s.check_invariants());
}

TEST_CASE("a large store's insert that cannot have a new pool chunk throws and leaves the store as it was",
          "[unit][mapping-store]")
{
    // Ascending pages fill leaves, so 200,000 mappings need about 6,300 nodes: past the few thousand
    // from which nodes come from the pool, whose chunks of about 1,900 nodes run out twice. Every
    // insert first meets an allocation failure: those that need a node when the chunk is used up (or
    // the first chunk, or the pool itself) throw and change nothing; the others need no allocation.
    MappingStore s;
    int failures = 0;
    for (uint64_t i = 0; i < 200000; ++i) {
        const Mapping m = page(i);
        const std::size_t bytes = i % 1000 == 0 ? s.memory_bytes() : 0;
        {
            NoMemory none;
            try {
                s.insert(m);
            } catch (const std::bad_alloc&) {
                ++failures;
                REQUIRE(s.size() == i);
                REQUIRE_FALSE(s.find(m.iova.first));
                if (bytes != 0)
                    REQUIRE(s.memory_bytes() == bytes);
            }
        }
        if (s.size() == i)
            s.insert(m);
    }
    REQUIRE(s.check_invariants());
    // Unpooled nodes fail at every split (about 4,000 of them), pooled ones once a chunk.
    CHECK(failures > 3900);
    CHECK(MappingStore::pooled_bytes() >= 2 * hw::virtio_iommu::NodePool::kChunkBytes);
    for (uint64_t i = 0; i < 200000; i += 997)
        REQUIRE(s.find(Iova(i * 0x1000 + 8)) == page(i));
}

TEST_CASE("a node pool that cannot have a new chunk throws and is unchanged", "[unit][mapping-store]")
{
    using hw::virtio_iommu::NodePool;
    NodePool pool(1024);
    {
        NoMemory none;
        REQUIRE_THROWS_AS(pool.take(), std::bad_alloc);
    }
    CHECK(pool.bytes() == 0);
    void* first = pool.take();
    CHECK(pool.bytes() == NodePool::kChunkBytes);
    // The rest of the chunk, and a slot given back, are had without allocating.
    NoMemory none;
    for (std::size_t i = 1; i < NodePool::kChunkBytes / 1024; ++i)
        (void)pool.take();
    pool.give(first);
    CHECK(pool.take() == first);
    REQUIRE_THROWS_AS(pool.take(), std::bad_alloc);
    CHECK(pool.bytes() == NodePool::kChunkBytes);
}

TEST_CASE("a host allocation failure while serving a request sets NEEDS_RESET, and a reset recovers",
          "[unit][virtio-iommu][2.1.2]")
{
    test::PreparedGuest d(hw::virtio_iommu::IommuConfig{});
    REQUIRE(d.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    // Two leaves' worth of ascending pages: the last leaf fills up within the next 32 MAPs, and one of
    // them then needs a new node.
    uint64_t iova = 0;
    for (; iova < 64 * 0x1000; iova += 0x1000)
        REQUIRE(d.map(iova) == VIRTIO_IOMMU_S_OK);
    const std::size_t mappings = d.device.domains().mapping_count();
    bool gave_up = false;
    for (int i = 0; i < 64 && !gave_up; ++i, iova += 0x1000) {
        NoMemory none;
        const uint8_t status = d.map(iova);
        gave_up = d.device.broken();
        if (!gave_up)
            REQUIRE(status == VIRTIO_IOMMU_S_OK);
    }
    REQUIRE(gave_up);
    CHECK(d.device.status() & virtio::status::kNeedsReset);
    CHECK(d.device.domains().mapping_count() <= mappings + 64);
    // A driver's recovery: reset and bring the device up again; the state is gone and requests work.
    d.device.reset();
    CHECK(d.device.domains().mapping_count() == 0);
    REQUIRE(d.client.bring_up());
    CHECK(d.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(d.map(0) == VIRTIO_IOMMU_S_OK);
}
