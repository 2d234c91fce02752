// The guest kernel's IOVA allocator for DMA domains (drivers/iommu/iova.c as dma-iommu.c uses it):
//  - allocations are in granule-sized pages, taken top-down below a limit (__alloc_and_insert_iova_range);
//  - sizes under 32 pages are rounded up to a power of two and aligned to it (iommu_dma_alloc_iova);
//  - reserved ranges (the endpoint's RESV_MEM regions, the PCI host bridge windows) are never handed out
//    (iova_reserve_iommu_regions, iova_reserve_pci_windows), and neither is IOVA 0 (base_pfn >= 1);
//  - freed small ranges go to a per-size cache and are reused last-in first-out (the rcache magazines of
//    one CPU), so a freed IOVA comes back before fresh space is used.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace viommu::guest::iommu {

class IovaAllocator {
public:
    // granule: the domain's smallest page (a power of two); [aperture_start, aperture_end] its geometry.
    IovaAllocator(uint64_t granule, uint64_t aperture_start, uint64_t aperture_end);

    // reserve_iova(): [first, last] is never allocated.
    void reserve(uint64_t first, uint64_t last);

    // Bytes rounded up to pages; an IOVA at or below `limit` (the device's DMA mask), or nullopt.
    [[nodiscard]] std::optional<uint64_t> alloc(uint64_t bytes, uint64_t limit);
    // Gives back what alloc() returned for the same byte count.
    void free(uint64_t iova, uint64_t bytes);

    uint64_t granule() const { return granule_; }
    std::size_t live() const { return live_; }

private:
    // Pages an allocation really takes (the power-of-two rounding of small sizes).
    uint64_t pages_for(uint64_t bytes) const;
    std::optional<uint64_t> alloc_range(uint64_t pages, uint64_t limit_pfn);

    uint64_t granule_;
    unsigned shift_;
    uint64_t start_pfn_;
    uint64_t end_pfn_;
    std::map<uint64_t, uint64_t> taken_; // first pfn -> last pfn, allocated or reserved
    // rcache: per power-of-two page count (1 .. 16 pages), most recently freed last.
    static constexpr unsigned kCachedOrders = 5;       // IOVA_RANGE_CACHE_MAX_SIZE 6: orders 0..4
    static constexpr std::size_t kCacheDepth = 2 * 127; // a CPU's loaded and previous magazines
    std::vector<uint64_t> cache_[kCachedOrders];
    std::size_t live_ = 0;
};

} // namespace viommu::guest::iommu
