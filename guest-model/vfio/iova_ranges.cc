#include "guest-model/vfio/iova_ranges.h"

namespace viommu::guest::vfio {

std::vector<IovaRange> type1_iova_ranges(const iommu::Geometry& aperture, const std::vector<iommu::ResvRegion>& resv)
{
    std::vector<IovaRange> ranges{{aperture.aperture_start, aperture.aperture_end}};
    for (const iommu::ResvRegion& r : resv) {
        if (r.type == iommu::ResvType::kDirectRelaxable)
            continue;
        const uint64_t start = r.start;
        const uint64_t end = r.last();
        std::vector<IovaRange> next;
        for (const IovaRange& n : ranges) {
            if (start > n.end || end < n.start) {
                next.push_back(n);
                continue;
            }
            // The overlapping node is replaced by what lies below and above the reserved region.
            if (start > n.start)
                next.push_back({n.start, start - 1});
            if (end < n.end)
                next.push_back({end + 1, n.end});
        }
        ranges = std::move(next);
    }
    return ranges;
}

bool iova_dma_valid(const std::vector<IovaRange>& ranges, uint64_t start, uint64_t end)
{
    for (const IovaRange& n : ranges)
        if (start >= n.start && end <= n.end)
            return true;
    return false;
}

} // namespace viommu::guest::vfio
