// What the ring fuzz targets take for a device's writes (fuzz_ram.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>

#include "tests/fuzz/fuzz_ram.h"
#include "tests/fuzz/ring_scenario.h"

using namespace viommu;
using namespace viommu::fuzz;

namespace {

bool same(const std::vector<GuestRange>& got, std::vector<GuestRange> want)
{
    return std::equal(got.begin(), got.end(), want.begin(), want.end(),
                      [](const GuestRange& a, const GuestRange& b) { return a.addr == b.addr && a.len == b.len; });
}

} // namespace

TEST_CASE("the harness's own writes are not the device's", "[unit][fuzz-ram]")
{
    WatchedRam ram;
    const std::array<uint8_t, 3> bytes{1, 2, 3};
    REQUIRE(ram.write(GuestAddr(RamLayout::kB - 1), bytes)); // across A and B
    REQUIRE(ram.fill(GuestAddr(RamLayout::kC), 0xff, 16));
    REQUIRE(ram.write_obj(GuestAddr(RamLayout::kA + 0x100), uint32_t{7}));
    CHECK_FALSE(ram.write(GuestAddr(RamLayout::kC + RamLayout::kCSize - 1), bytes)); // past the end of C
    CHECK(ram.take_device_writes().empty());
}

TEST_CASE("a device's writes come back as runs of changed bytes, once", "[unit][fuzz-ram]")
{
    WatchedRam ram;
    const std::array<uint8_t, 4> bytes{9, 9, 9, 9};
    // Written behind the harness's back, as a device writes: straight into RAM.
    REQUIRE(ram.memory().write(GuestAddr(RamLayout::kA + 0xffe), bytes)); // across a page boundary
    REQUIRE(ram.memory().write(GuestAddr(RamLayout::kC + 8), std::span(bytes).first(1)));
    CHECK(same(ram.take_device_writes(), {{RamLayout::kA + 0xffe, 4}, {RamLayout::kC + 8, 1}}));
    CHECK(ram.take_device_writes().empty());
    // A byte written with the value it had is no change.
    REQUIRE(ram.memory().write(GuestAddr(RamLayout::kC + 8), std::span(bytes).first(1)));
    CHECK(ram.take_device_writes().empty());
}

TEST_CASE("a new WatchedRam starts from zeroed RAM", "[unit][fuzz-ram]")
{
    {
        WatchedRam ram;
        REQUIRE(ram.write_obj(GuestAddr(RamLayout::kA), uint64_t{~0ull}));
    }
    WatchedRam ram;
    CHECK(ram.memory().read_obj<uint64_t>(GuestAddr(RamLayout::kA)) == 0u);
    CHECK(ram.take_device_writes().empty());
}

TEST_CASE("outside() names the first written byte that no allowed range covers", "[unit][fuzz-ram]")
{
    const std::vector<GuestRange> writes{{0x1000, 0x20}, {0x2000, 1}};
    CHECK(outside(writes, std::vector<GuestRange>{{0x1000, 0x10}, {0x1010, 0x10}, {0x2000, 1}}) == std::nullopt);
    CHECK(outside(writes, std::vector<GuestRange>{{0x1000, 0x10}, {0x2000, 1}}) == 0x1010u);
    CHECK(outside(writes, std::vector<GuestRange>{{0x1000, 0x20}}) == 0x2000u);
    CHECK(outside(writes, {}) == 0x1000u);
    // A range reaching the top of the address space covers what lies above its start.
    CHECK(outside(writes, std::vector<GuestRange>{{0xfff, UINT64_MAX}}) == std::nullopt);
}

TEST_CASE("ram_offset() places A and B side by side and C after them, and refuses what is not all RAM", "[unit][fuzz-ram]")
{
    CHECK(ram_offset(RamLayout::kA, 1) == 0u);
    CHECK(ram_offset(RamLayout::kB - 2, 4) == RamLayout::kASize - 2); // across A and B
    CHECK(ram_offset(RamLayout::kC, RamLayout::kCSize) == RamLayout::kASize + RamLayout::kBSize);
    CHECK(ram_offset(RamLayout::kC + RamLayout::kCSize, 0) == RamLayout::kASize + RamLayout::kBSize + RamLayout::kCSize);
    CHECK_FALSE(ram_offset(RamLayout::kC + RamLayout::kCSize - 1, 2));
    CHECK_FALSE(ram_offset(RamLayout::kA - 1, 1));
    CHECK_FALSE(ram_offset(RamLayout::kB + RamLayout::kBSize - 1, 2)); // B's end is not C's start
    CHECK_FALSE(ram_offset(RamLayout::kA, UINT64_MAX));
}
