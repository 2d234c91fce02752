#include "guest-model/iommu/iova.h"

#include <algorithm>
#include <bit>

namespace viommu::guest::iommu {

IovaAllocator::IovaAllocator(uint64_t granule, uint64_t aperture_start, uint64_t aperture_end)
    : granule_(granule), shift_(static_cast<unsigned>(std::countr_zero(granule))),
      start_pfn_(std::max<uint64_t>(1, aperture_start >> shift_)), end_pfn_(aperture_end >> shift_)
{
}

void IovaAllocator::reserve(uint64_t first, uint64_t last)
{
    uint64_t lo = first >> shift_;
    uint64_t hi = last >> shift_;
    // Merge with whatever it overlaps, as reserve_iova() does.
    auto it = taken_.upper_bound(lo);
    if (it != taken_.begin() && std::prev(it)->second >= lo)
        --it;
    while (it != taken_.end() && it->first <= hi) {
        lo = std::min(lo, it->first);
        hi = std::max(hi, it->second);
        it = taken_.erase(it);
    }
    taken_.emplace(lo, hi);
}

uint64_t IovaAllocator::pages_for(uint64_t bytes) const
{
    const uint64_t pages = std::max<uint64_t>(1, (bytes + granule_ - 1) >> shift_);
    return pages < (uint64_t{1} << kCachedOrders) ? std::bit_ceil(pages) : pages;
}

std::optional<uint64_t> IovaAllocator::alloc_range(uint64_t pages, uint64_t limit_pfn)
{
    // The highest free range of `pages`, aligned to their power of two, at or below limit_pfn: walk the
    // gaps between taken ranges from the top down.
    const uint64_t align = std::bit_ceil(pages);
    uint64_t ceiling = std::min(limit_pfn, end_pfn_);
    if (ceiling < start_pfn_)
        return std::nullopt;
    auto above = taken_.upper_bound(ceiling); // the first taken range starting above the ceiling
    for (;;) {
        uint64_t floor = start_pfn_;
        if (above != taken_.begin()) {
            const auto below = std::prev(above);
            if (below->second >= ceiling) { // the ceiling is inside a taken range: go below it
                if (below->first <= start_pfn_)
                    return std::nullopt;
                ceiling = below->first - 1;
                above = below;
                continue;
            }
            floor = std::max(floor, below->second + 1);
        }
        if (ceiling - floor + 1 >= pages) {
            const uint64_t first = (ceiling + 1 - pages) & ~(align - 1);
            if (first >= floor) {
                taken_.emplace(first, first + pages - 1);
                return first;
            }
        }
        if (above == taken_.begin())
            return std::nullopt;
        const auto below = std::prev(above);
        if (below->first <= start_pfn_)
            return std::nullopt;
        ceiling = below->first - 1;
        above = below;
    }
}

std::optional<uint64_t> IovaAllocator::alloc(uint64_t bytes, uint64_t limit)
{
    const uint64_t pages = pages_for(bytes);
    const uint64_t limit_pfn = limit >> shift_;
    if (pages < (uint64_t{1} << kCachedOrders)) {
        auto& cache = cache_[std::countr_zero(pages)];
        // The most recently freed range that fits under the limit (iova_magazine_pop()).
        for (auto c = cache.rbegin(); c != cache.rend(); ++c) {
            if (*c + pages - 1 <= limit_pfn) {
                const uint64_t pfn = *c;
                cache.erase(std::next(c).base());
                ++live_;
                return pfn << shift_;
            }
        }
    }
    auto pfn = alloc_range(pages, limit_pfn);
    if (!pfn) {
        // Out of space: give the cached ranges back and try again (alloc_iova_fast()'s flush_rcache).
        bool flushed = false;
        for (auto& cache : cache_) {
            for (uint64_t cached : cache) {
                taken_.erase(cached);
                flushed = true;
            }
            cache.clear();
        }
        if (flushed)
            pfn = alloc_range(pages, limit_pfn);
    }
    if (!pfn)
        return std::nullopt;
    ++live_;
    return *pfn << shift_;
}

void IovaAllocator::free(uint64_t iova, uint64_t bytes)
{
    const uint64_t pages = pages_for(bytes);
    const uint64_t pfn = iova >> shift_;
    --live_;
    if (pages < (uint64_t{1} << kCachedOrders)) {
        auto& cache = cache_[std::countr_zero(pages)];
        if (cache.size() < kCacheDepth) {
            cache.push_back(pfn); // stays taken in the tree while cached, as in Linux
            return;
        }
    }
    taken_.erase(pfn);
}

} // namespace viommu::guest::iommu
