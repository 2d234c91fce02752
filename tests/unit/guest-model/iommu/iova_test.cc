// The IOVA allocator behaves as Linux's does for a DMA domain.
#include <catch2/catch.hpp>

#include "guest-model/iommu/iova.h"

using viommu::guest::iommu::IovaAllocator;

TEST_CASE("IOVAs are handed out top-down below a 32-bit limit", "[unit][iova]")
{
    IovaAllocator a(0x1000, 0, UINT64_MAX);
    // What a real 6.12 guest's first mappings use: 0xfffff000, then 0xffffe000 (8 KiB rings).
    CHECK(a.alloc(0x1000, 0xffffffff) == 0xfffff000);
    CHECK(a.alloc(0x2000, 0xffffffff) == 0xffffc000); // 2 pages, aligned to 2 pages
    CHECK(a.alloc(0x1000, 0xffffffff) == 0xffffe000); // fills the hole above
}

TEST_CASE("small sizes are rounded to a power of two pages and aligned to it", "[unit][iova]")
{
    IovaAllocator a(0x1000, 0, UINT64_MAX);
    const auto x = a.alloc(0x3000, 0xffffffff); // 3 pages -> 4
    REQUIRE(x);
    CHECK(*x % 0x4000 == 0);
    CHECK(*x == 0xffffc000);
    // 48 pages: not rounded (>= 32 pages), but still aligned to the next power of two, 64 pages
    // (__alloc_and_insert_iova_range() with size_aligned).
    const auto big = a.alloc(0x30000, 0xffffffff);
    REQUIRE(big);
    CHECK(*big == 0xfffc0000);
}

TEST_CASE("reserved ranges are never handed out", "[unit][iova]")
{
    IovaAllocator a(0x1000, 0, UINT64_MAX);
    a.reserve(0xfee00000, 0xfeefffff); // the MSI window
    a.reserve(0xff000000, 0xffffffff);
    CHECK(a.alloc(0x1000, 0xffffffff) == 0xfefff000);
    for (int i = 0; i < 255; ++i)
        REQUIRE(a.alloc(0x1000, 0xffffffff));
    CHECK(a.alloc(0x1000, 0xffffffff) == 0xfedff000); // jumped over the window
}

TEST_CASE("IOVA 0 is never handed out", "[unit][iova]")
{
    IovaAllocator a(0x1000, 0, 0x3fff);
    CHECK(a.alloc(0x1000, 0x3fff) == 0x3000);
    CHECK(a.alloc(0x1000, 0x3fff) == 0x2000);
    CHECK(a.alloc(0x1000, 0x3fff) == 0x1000);
    CHECK_FALSE(a.alloc(0x1000, 0x3fff));
}

TEST_CASE("a freed IOVA is reused before fresh space, last freed first", "[unit][iova]")
{
    IovaAllocator a(0x1000, 0, UINT64_MAX);
    const auto x = *a.alloc(0x1000, 0xffffffff);
    const auto y = *a.alloc(0x1000, 0xffffffff);
    a.free(x, 0x1000);
    a.free(y, 0x1000);
    CHECK(a.alloc(0x1000, 0xffffffff) == y);
    CHECK(a.alloc(0x1000, 0xffffffff) == x);
    CHECK(a.live() == 2);
}

TEST_CASE("the limit is respected, and a full domain is reported", "[unit][iova]")
{
    IovaAllocator a(0x1000, 0, UINT64_MAX);
    CHECK(a.alloc(0x1000, 0x7fffff) == 0x7ff000);
    // Pages 1 and 2 only; two pages must be aligned to two, which page 1 is not.
    IovaAllocator tiny(0x1000, 0x1000, 0x2fff);
    CHECK_FALSE(tiny.alloc(0x2000, UINT64_MAX));
    CHECK(tiny.alloc(0x1000, UINT64_MAX) == 0x2000);
    CHECK(tiny.alloc(0x1000, UINT64_MAX) == 0x1000);
    CHECK_FALSE(tiny.alloc(0x1000, UINT64_MAX));
}
