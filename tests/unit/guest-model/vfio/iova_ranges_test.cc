// type1's usable IOVA ranges: the aperture minus the group's reserved regions, and the MAP_DMA check.
#include <catch2/catch.hpp>

#include "guest-model/vfio/iova_ranges.h"

using namespace viommu::guest;
using vfio::IovaRange;

namespace {
const iommu::Geometry k64Bit{0, UINT64_MAX}; // QEMU's virtio-iommu input range
const iommu::ResvRegion kMsi{0xfee00000, 0x100000, 0, iommu::ResvType::kMsi};
} // namespace

TEST_CASE("type1's IOVA ranges are the aperture minus the reserved regions (vfio_iommu_resv_exclude)",
          "[unit][vfio][iova]")
{
    CHECK(vfio::type1_iova_ranges(k64Bit, {kMsi}) ==
          std::vector<IovaRange>{{0, 0xfedfffff}, {0xfef00000, UINT64_MAX}});
    CHECK(vfio::type1_iova_ranges(k64Bit, {}) == std::vector<IovaRange>{{0, UINT64_MAX}});
    // A region at the aperture's edge only shortens it.
    CHECK(vfio::type1_iova_ranges({0x1000, 0xffffffff}, {{0, 0x2000, 0, iommu::ResvType::kReserved}}) ==
          std::vector<IovaRange>{{0x2000, 0xffffffff}});
}

TEST_CASE("type1 does not exclude IOMMU_RESV_DIRECT_RELAXABLE regions", "[unit][vfio][iova]")
{
    const iommu::ResvRegion rmrr{0x10000000, 0x1000, 0, iommu::ResvType::kDirectRelaxable};
    CHECK(vfio::type1_iova_ranges(k64Bit, {rmrr}) == std::vector<IovaRange>{{0, UINT64_MAX}});
}

TEST_CASE("VFIO_IOMMU_MAP_DMA must lie inside one range: the MSI window is refused (vfio_iommu_iova_dma_valid)",
          "[unit][vfio][iova]")
{
    const auto ranges = vfio::type1_iova_ranges(k64Bit, {kMsi});
    CHECK(vfio::iova_dma_valid(ranges, 0x100000, 0x103fff));
    CHECK_FALSE(vfio::iova_dma_valid(ranges, 0xfee00000, 0xfee00fff));
    CHECK_FALSE(vfio::iova_dma_valid(ranges, 0xfedff000, 0xfee00fff)); // straddles the window's start
    CHECK(vfio::iova_dma_valid(ranges, 0xfef00000, 0xfef00fff));
}
