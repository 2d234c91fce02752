// The mapping store against a plain std::map model: every operation, random and adversarial orders.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "hw/virtio-iommu/mapping_store.h"
#include "hw/virtio-iommu/node_pool.h"

using viommu::Iova;
using viommu::hw::virtio_iommu::IovaRange;
using viommu::hw::virtio_iommu::Mapping;
using viommu::hw::virtio_iommu::MappingStore;
using viommu::hw::virtio_iommu::NodePool;

namespace {

IovaRange range(uint64_t first, uint64_t last) { return {Iova(first), Iova(last)}; }
Mapping mapping(uint64_t first, uint64_t last, uint64_t phys, uint32_t flags) { return {range(first, last), phys, flags}; }

// The reference: the obvious structure, written to be obviously right.
struct Model {
    std::map<uint64_t, Mapping> m;
    // The last mapping starting at or below iova holds it, if any does (mappings are disjoint).
    std::optional<Mapping> find(uint64_t iova) const
    {
        auto it = m.upper_bound(iova);
        if (it == m.begin() || std::prev(it)->second.iova.last.value() < iova)
            return std::nullopt;
        return std::prev(it)->second;
    }
    bool overlaps(uint64_t s, uint64_t e) const
    {
        // One that starts inside [s, e], or the one holding s.
        const auto it = m.lower_bound(s);
        return (it != m.end() && it->first <= e) || find(s).has_value();
    }
};

std::vector<Mapping> all(const MappingStore& s)
{
    std::vector<Mapping> out;
    s.for_each([&](const Mapping& m) { out.push_back(m); });
    return out;
}

std::vector<Mapping> all(const Model& model)
{
    std::vector<Mapping> out;
    for (const auto& [k, v] : model.m)
        out.push_back(v);
    return out;
}

} // namespace

TEST_CASE("an empty store finds nothing and removes nothing", "[unit][mapping-store]")
{
    MappingStore s;
    CHECK_FALSE(s.find(Iova(0)));
    CHECK_FALSE(s.overlaps(range(0, UINT64_MAX)));
    int calls = 0;
    CHECK(s.remove_range(range(0, UINT64_MAX), [&](const Mapping&) { ++calls; }) == MappingStore::RemoveResult::kRemoved);
    CHECK(calls == 0);
    CHECK(s.check_invariants());
}

TEST_CASE("find returns the mapping holding an address, at both ends", "[unit][mapping-store]")
{
    MappingStore s;
    s.insert(mapping(0x1000, 0x1fff, 0xa000, 3));
    s.insert(mapping(0x3000, 0x3fff, 0xb000, 1));
    CHECK(s.find(Iova(0x1000))->phys_start == 0xa000);
    CHECK(s.find(Iova(0x1fff))->phys_start == 0xa000);
    CHECK_FALSE(s.find(Iova(0x2000)));
    CHECK_FALSE(s.find(Iova(0xfff)));
    CHECK(s.find(Iova(0x3abc))->flags == 1);
    CHECK_FALSE(s.find(Iova(0x4000)));
}

TEST_CASE("a mapping reaching 2^64-1 is found at the top address", "[unit][mapping-store]")
{
    MappingStore s;
    s.insert(mapping(UINT64_MAX - 0xfff, UINT64_MAX, 0, 1));
    CHECK(s.find(Iova(UINT64_MAX)));
    CHECK(s.overlaps(range(UINT64_MAX, UINT64_MAX)));
}

TEST_CASE("remove_range refuses to split a mapping and removes nothing", "[unit][mapping-store]")
{
    MappingStore s;
    s.insert(mapping(0x0, 0xfff, 0, 1));
    s.insert(mapping(0x1000, 0x2fff, 0, 1));
    s.insert(mapping(0x3000, 0x3fff, 0, 1));
    int calls = 0;
    auto count = [&](const Mapping&) { ++calls; };
    CHECK(s.remove_range(range(0x0, 0x1fff), count) == MappingStore::RemoveResult::kWouldSplit);  // cuts the second
    CHECK(s.remove_range(range(0x2000, 0x3fff), count) == MappingStore::RemoveResult::kWouldSplit); // cuts it too
    CHECK(calls == 0);
    CHECK(s.size() == 3);
    CHECK(s.remove_range(range(0x0, 0x2fff), count) == MappingStore::RemoveResult::kRemoved);
    CHECK(calls == 2);
    CHECK(s.size() == 1);
    CHECK(s.check_invariants());
}

TEST_CASE("the store agrees with a reference model over random and local operations", "[unit][mapping-store]")
{
    const uint32_t seed = GENERATE(1u, 2u, 3u, 4u, 5u, 6u);
    std::mt19937_64 rng(seed);
    MappingStore s;
    Model model;
    // A small address space makes overlaps and splits common.
    const uint64_t pages = seed % 2 ? 4096 : 200000;
    // Seeds 5 and 6 move through the address space in small steps, as a DMA allocator and a device
    // streaming through its buffers do: then the store's cached leaf and entry answer most operations,
    // across the splits and merges that change them.
    const bool local = seed > 4;
    uint64_t a = 0;
    for (int step = 0; step < 60000; ++step) {
        a = local ? (a + pages + rng() % 7 - 3) % pages : rng() % pages;
        const uint64_t len = 1 + rng() % 8;
        const uint64_t start = a * 0x1000, end = (a + len) * 0x1000 - 1;
        const int op = static_cast<int>(rng() % 10);
        if (op < 6) {
            // The device asks overlaps() before every insert(); skip it at times so that insert() meets
            // caches that lookups elsewhere left.
            const bool o = model.overlaps(start, end);
            if (rng() % 2)
                REQUIRE(s.overlaps(range(start, end)) == o);
            if (!o) {
                const Mapping m = mapping(start, end, rng(), static_cast<uint32_t>(rng() % 8));
                s.insert(m);
                model.m[start] = m;
            }
        } else if (op < 9) {
            const uint64_t ulen = 1 + rng() % 64;
            const uint64_t uend = (a + ulen) * 0x1000 - 1;
            std::vector<Mapping> removed;
            const auto r = s.remove_range(range(start, uend), [&](const Mapping& m) { removed.push_back(m); });
            // The model's answer: a split if a mapping crosses either bound.
            bool split = false;
            std::vector<Mapping> inside;
            auto from = model.m.upper_bound(start);
            if (from != model.m.begin())
                --from;
            for (auto it = from; it != model.m.end() && it->first <= uend; ++it) {
                const Mapping& v = it->second;
                if (v.iova.last.value() < start)
                    continue;
                if (v.iova.first.value() < start || v.iova.last.value() > uend)
                    split = true;
                inside.push_back(v);
            }
            REQUIRE((r == MappingStore::RemoveResult::kWouldSplit) == split);
            if (!split) {
                REQUIRE(removed == inside);
                for (const Mapping& m : inside)
                    model.m.erase(m.iova.first.value());
            } else {
                REQUIRE(removed.empty());
            }
        } else {
            const uint64_t iova = local ? a * 0x1000 + rng() % 0x8000 : rng() % (pages * 0x1000);
            REQUIRE(s.find(Iova(iova)) == model.find(iova));
        }
        if (step % 5000 == 0)
            REQUIRE(s.check_invariants());
    }
    REQUIRE(s.size() == model.m.size());
    REQUIRE(all(s) == all(model));
    REQUIRE(s.check_invariants());
    // Empty it completely: every node is given back.
    REQUIRE(s.remove_range(range(0, UINT64_MAX), [](const Mapping&) {}) == MappingStore::RemoveResult::kRemoved);
    REQUIRE(s.empty());
    REQUIRE(s.memory_bytes() == 0);
    REQUIRE(s.check_invariants());
}

TEST_CASE("ascending inserts fill leaves and cost under 64 bytes a mapping", "[unit][mapping-store]")
{
    MappingStore s;
    for (uint64_t i = 0; i < 100000; ++i)
        s.insert(mapping(i * 0x1000, i * 0x1000 + 0xfff, i, 3));
    CHECK(s.check_invariants());
    CHECK(s.memory_bytes() / s.size() < 40);
    // Removing every other mapping then the rest leaves an empty, consistent tree.
    for (uint64_t i = 0; i < 100000; i += 2)
        REQUIRE(s.remove_range(range(i * 0x1000, i * 0x1000 + 0xfff), [](const Mapping&) {}) ==
                MappingStore::RemoveResult::kRemoved);
    CHECK(s.size() == 50000);
    CHECK(s.check_invariants());
    for (uint64_t i = 1; i < 100000; i += 2)
        REQUIRE(s.find(Iova(i * 0x1000 + 5))->phys_start == i);
    s.clear();
    CHECK(s.empty());
}

TEST_CASE("descending inserts keep the tree consistent", "[unit][mapping-store]")
{
    MappingStore s;
    for (uint64_t i = 50000; i-- > 0;)
        s.insert(mapping(i * 0x2000, i * 0x2000 + 0xfff, i, 1));
    CHECK(s.check_invariants());
    CHECK_FALSE(s.find(Iova(0x1000)));
    CHECK(s.find(Iova(0x2000))->phys_start == 1);
    CHECK(s.overlaps(range(0x1000, 0x2000)));
    CHECK_FALSE(s.overlaps(range(0x1000, 0x1fff)));
}

TEST_CASE("a walk that runs off the cached leaf into the next one is answered as the model says",
          "[unit][mapping-store]")
{
    // Mappings of one to three pages with one-page gaps: an ascending walk of every page meets hits,
    // misses in the gaps, and every leaf boundary, while removals between walks merge and shrink the
    // leaves the walk steps through.
    MappingStore s;
    Model model;
    std::mt19937_64 rng(11);
    uint64_t page = 0;
    for (int i = 0; i < 3000; ++i) {
        const uint64_t len = 1 + rng() % 3;
        const Mapping m = mapping(page * 0x1000, (page + len) * 0x1000 - 1, rng(), 3);
        s.insert(m);
        model.m[m.iova.first.value()] = m;
        page += len + 1;
    }
    for (int round = 0; round < 4; ++round) {
        for (uint64_t iova = 0; iova < (page + 2) * 0x1000; iova += 0x800)
            REQUIRE(s.find(Iova(iova)) == model.find(iova));
        // Drop about a third of what is left, so the next walk crosses leaves that changed.
        for (auto it = model.m.begin(); it != model.m.end();) {
            if (rng() % 3 == 0) {
                REQUIRE(s.remove_range(it->second.iova, [](const Mapping&) {}) ==
                        MappingStore::RemoveResult::kRemoved);
                it = model.m.erase(it);
            } else {
                ++it;
            }
        }
        REQUIRE(s.check_invariants());
    }
}

TEST_CASE("a store past a few thousand nodes takes them from the shared pool and gives them all back",
          "[unit][mapping-store]")
{
    // 300,000 single pages in random order (leaves about 70% full): about 14,000 nodes, most from the
    // pool. Lookups, removals and the tree's shape are those of any store; emptied, it holds nothing.
    MappingStore s;
    Model model;
    std::mt19937_64 rng(3);
    std::vector<uint64_t> pages(300000);
    for (uint64_t i = 0; i < pages.size(); ++i)
        pages[i] = i;
    std::shuffle(pages.begin(), pages.end(), rng);
    for (const uint64_t p : pages) {
        const Mapping m = mapping(p * 0x2000, p * 0x2000 + 0xfff, p, 3);
        s.insert(m);
        model.m[m.iova.first.value()] = m;
    }
    REQUIRE(s.check_invariants());
    CHECK(MappingStore::pooled_bytes() >= 4 * NodePool::kChunkBytes);
    CHECK(s.memory_bytes() / s.size() < 64);
    for (int i = 0; i < 20000; ++i) {
        const uint64_t iova = rng() % (pages.size() * 0x2000);
        REQUIRE(s.find(Iova(iova)) == model.find(iova));
    }
    // Remove all but every tenth in random order: nodes freed and merged go back to the pool, and the
    // pool's slots are taken again by inserts that follow.
    std::shuffle(pages.begin(), pages.end(), rng);
    for (const uint64_t p : pages)
        if (p % 10 != 0) {
            REQUIRE(s.remove_range(range(p * 0x2000, p * 0x2000 + 0xfff), [](const Mapping&) {}) ==
                    MappingStore::RemoveResult::kRemoved);
            model.m.erase(p * 0x2000);
        }
    for (uint64_t p = 1; p < pages.size(); p += 10) {
        const Mapping m = mapping(p * 0x2000, p * 0x2000 + 0xfff, p, 1);
        s.insert(m);
        model.m[m.iova.first.value()] = m;
    }
    REQUIRE(s.check_invariants());
    REQUIRE(all(s) == all(model));
    MappingStore moved(std::move(s));
    REQUIRE(moved.remove_range(range(0, UINT64_MAX), [](const Mapping&) {}) == MappingStore::RemoveResult::kRemoved);
    CHECK(moved.memory_bytes() == 0);
    // No store holds a pooled node any more: the chunks are back with the system.
    CHECK(MappingStore::pooled_bytes() == 0);
}
