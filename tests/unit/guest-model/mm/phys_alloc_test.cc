// The guest's physical-range allocator: first fit, aligned, rounded to 8 bytes, coalesced on free.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "guest-model/mm/phys_alloc.h"

using viommu::GuestAddr;
using viommu::guest::mm::PhysAllocator;

namespace {

// Every free range, as (start, length) pairs.
std::vector<std::pair<uint64_t, uint64_t>> ranges(const PhysAllocator& a)
{
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (const PhysAllocator::Range& r : a.free_ranges())
        out.emplace_back(r.start, r.len);
    return out;
}

} // namespace

TEST_CASE("allocations are first fit and aligned", "[unit][phys-alloc]")
{
    PhysAllocator a(GuestAddr(0x1000), 0x10000);
    CHECK(a.alloc(0x10) == GuestAddr(0x1000));
    CHECK(a.alloc(0x100, 0x1000) == GuestAddr(0x2000));
    // The gap the alignment left below 0x2000 is the first fit for what fits in it.
    CHECK(a.alloc(0x20) == GuestAddr(0x1010));
    CHECK(ranges(a) == std::vector<std::pair<uint64_t, uint64_t>>{{0x1030, 0xfd0}, {0x2100, 0xef00}});
}

TEST_CASE("sizes are rounded up to 8 bytes, and a zero size takes 8", "[unit][phys-alloc]")
{
    PhysAllocator a(GuestAddr(0), 0x100);
    CHECK(a.alloc(1) == GuestAddr(0));
    CHECK(a.alloc(0) == GuestAddr(8));
    CHECK(a.alloc(9) == GuestAddr(16));
    CHECK(a.free_bytes() == 0x100 - 32);
}

TEST_CASE("an allocation that fits nowhere is refused and changes nothing", "[unit][phys-alloc]")
{
    PhysAllocator a(GuestAddr(0x1000), 0x3000);
    REQUIRE(a.alloc(0x1000, 0x1000) == GuestAddr(0x1000));
    CHECK_FALSE(a.alloc(0x3000));
    CHECK_FALSE(a.alloc(0x800, 0x4000)); // room for 0x800, but no 16 KiB boundary inside
    CHECK(ranges(a) == std::vector<std::pair<uint64_t, uint64_t>>{{0x2000, 0x2000}});
    CHECK(a.free_bytes() == 0x2000);
}

TEST_CASE("freed ranges coalesce with both neighbours", "[unit][phys-alloc]")
{
    PhysAllocator a(GuestAddr(0), 0x400);
    const auto x = a.alloc(0x100), y = a.alloc(0x100), z = a.alloc(0x100);
    REQUIRE((x && y && z));
    a.free(*x, 0x100);
    a.free(*z, 0x100);
    CHECK(ranges(a) == std::vector<std::pair<uint64_t, uint64_t>>{{0, 0x100}, {0x200, 0x200}});
    a.free(*y, 0x100);
    CHECK(ranges(a) == std::vector<std::pair<uint64_t, uint64_t>>{{0, 0x400}});
    CHECK(a.free_bytes() == 0x400);
}

TEST_CASE("random allocations and frees agree with a byte map of the region", "[unit][phys-alloc]")
{
    constexpr uint64_t kBase = 0x10000, kSize = 0x8000;
    PhysAllocator a(GuestAddr(kBase), kSize);
    std::vector<bool> used(kSize);
    std::map<uint64_t, uint64_t> live; // address -> size given to alloc()
    std::mt19937_64 rng(7);
    // What alloc() takes for a size: at least one byte, in whole 8-byte units.
    auto taken = [](uint64_t size) { return ((size ? size : 1) + 7) & ~uint64_t{7}; };
    for (int step = 0; step < 5000; ++step) {
        if (live.empty() || rng() % 3) {
            const uint64_t size = rng() % 0x300;
            const uint64_t align = uint64_t{1} << (3 + rng() % 10);
            const auto got = a.alloc(size, align);
            if (!got)
                continue;
            const uint64_t at = got->value() - kBase, len = taken(size);
            REQUIRE(got->value() % align == 0);
            REQUIRE(at + len <= kSize);
            REQUIRE(std::none_of(used.begin() + at, used.begin() + at + len, [](bool b) { return b; }));
            std::fill(used.begin() + at, used.begin() + at + len, true);
            live[got->value()] = size;
        } else {
            auto it = std::next(live.begin(), static_cast<long>(rng() % live.size()));
            a.free(GuestAddr(it->first), it->second);
            const uint64_t at = it->first - kBase, len = taken(it->second);
            std::fill(used.begin() + at, used.begin() + at + len, false);
            live.erase(it);
        }
        // The free list is exactly the unused bytes, sorted, with no two ranges touching.
        uint64_t free_count = 0, prev_end = 0;
        bool first = true;
        for (const PhysAllocator::Range& r : a.free_ranges()) {
            REQUIRE(r.len > 0);
            REQUIRE((first || r.start > prev_end));
            const auto from = used.begin() + (r.start - kBase);
            REQUIRE(std::none_of(from, from + r.len, [](bool b) { return b; }));
            free_count += r.len;
            prev_end = r.start + r.len;
            first = false;
        }
        REQUIRE(free_count == a.free_bytes());
        REQUIRE(free_count == static_cast<uint64_t>(std::count(used.begin(), used.end(), false)));
    }
}
