// iommu_pgsize() as drivers/iommu/iommu.c splits a range for map_pages()/unmap_pages(): the largest page
// size the IOMMU supports that fits the size and the alignment of both addresses, in runs that stop
// where a larger page would fit.
#include <catch2/catch.hpp>

#include "guest-model/iommu/dma_api.h"

using viommu::guest::iommu::iommu_pgsize;

namespace {
constexpr uint64_t k4K = 0x1000;
constexpr uint64_t k2M = 0x200000;
constexpr uint64_t k1G = 0x40000000;
constexpr uint64_t kX86Sizes = k4K | k2M | k1G;
} // namespace

TEST_CASE("A range aligned to a large page is mapped with that page size", "[unit][pgsize]")
{
    uint64_t count = 0;
    CHECK(iommu_pgsize(kX86Sizes, 0x400000, 0x2a00000, 2 * k2M, count) == k2M);
    CHECK(count == 2);
}

TEST_CASE("Addresses aligned differently fall back to the page size both share", "[unit][pgsize]")
{
    uint64_t count = 0;
    CHECK(iommu_pgsize(kX86Sizes, 0x400000, 0x2a01000, 2 * k2M, count) == k4K);
    CHECK(count == 1024);
}

TEST_CASE("A run of small pages stops where a larger page fits", "[unit][pgsize]")
{
    // 4 KiB below a 2 MiB boundary, then 2 MiB: the first run is the single 4 KiB page.
    uint64_t count = 0;
    CHECK(iommu_pgsize(kX86Sizes, k2M - k4K, 0x10000000 - k4K, k4K + k2M, count) == k4K);
    CHECK(count == 1);
    CHECK(iommu_pgsize(kX86Sizes, k2M, 0x10000000, k2M, count) == k2M);
    CHECK(count == 1);
}

TEST_CASE("Every size from 4 KiB (QEMU 7.2's page_size_mask) gives the largest page the alignment allows",
          "[unit][pgsize]")
{
    // 0x400000 | 0x2a00000 is 2 MiB-aligned, not 4 MiB-aligned: two 2 MiB pages, not one 4 MiB page.
    uint64_t count = 0;
    CHECK(iommu_pgsize(~uint64_t{0xfff}, 0x400000, 0x2a00000, 2 * k2M, count) == k2M);
    CHECK(count == 2);
}

TEST_CASE("An IOMMU with only 4 KiB pages maps everything in 4 KiB pages", "[unit][pgsize]")
{
    uint64_t count = 0;
    CHECK(iommu_pgsize(k4K, 0x400000, 0x2a00000, 2 * k2M, count) == k4K);
    CHECK(count == 1024);
}
