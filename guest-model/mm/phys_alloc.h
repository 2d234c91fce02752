// The guest's page allocator, reduced to what the model needs: ranges of guest-physical memory for
// rings, request buffers and DMA buffers (kmalloc / dma_alloc_coherent / alloc_pages in Linux).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/addr.h"

namespace viommu::guest::mm {

class PhysAllocator {
public:
    // Hands out ranges inside [base, base + size).
    PhysAllocator(GuestAddr base, uint64_t size);

    // First fit; alignment is a power of two. nullopt when no free range fits.
    [[nodiscard]] std::optional<GuestAddr> alloc(uint64_t size, uint64_t align = 8);
    // Returns a range from alloc(), with the same size.
    void free(GuestAddr addr, uint64_t size);

    uint64_t free_bytes() const { return free_bytes_; }
    // The free ranges, sorted and coalesced (no two touch).
    struct Range {
        uint64_t start;
        uint64_t len;
    };
    const std::vector<Range>& free_ranges() const { return free_; }

private:
    // A sorted vector, not a std::map: a guest holds a few dozen free ranges at most, and a node allocation
    // per alloc() and free() was a sixth of a fuzz-requests input under ASan (docs/fuzzing.md).
    std::vector<Range> free_;
    uint64_t free_bytes_ = 0;
};

} // namespace viommu::guest::mm
