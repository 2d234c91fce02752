// The IOVA ranges a type1 container lets its user map (drivers/vfio/vfio_iommu_type1.c, since the
// v5.4 series of 9b77e5c79840): the domain's aperture (vfio_iommu_aper_expand()) minus every reserved
// region of the group (vfio_iommu_resv_exclude(), which skips IOMMU_RESV_DIRECT_RELAXABLE), e.g. the
// x86 MSI window 0xfee00000-0xfeefffff. VFIO_IOMMU_GET_INFO reports them
// (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) and VFIO_IOMMU_MAP_DMA of anything not inside one of them
// fails with EINVAL (vfio_iommu_iova_dma_valid()).
#pragma once

#include <cstdint>
#include <vector>

#include "guest-model/iommu/iommu_ops.h"

namespace viommu::guest::vfio {

struct IovaRange {
    uint64_t start = 0;
    uint64_t end = 0; // inclusive
    bool operator==(const IovaRange&) const = default;
};

// Sorted, disjoint; empty when the reserved regions cover the whole aperture (attach fails: -EINVAL).
std::vector<IovaRange> type1_iova_ranges(const iommu::Geometry& aperture, const std::vector<iommu::ResvRegion>& resv);

// vfio_iommu_iova_dma_valid(): [start, end] lies inside one range.
bool iova_dma_valid(const std::vector<IovaRange>& ranges, uint64_t start, uint64_t end);

} // namespace viommu::guest::vfio
