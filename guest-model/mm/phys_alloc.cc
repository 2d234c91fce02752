#include "guest-model/mm/phys_alloc.h"

#include <cassert>

namespace viommu::guest::mm {

PhysAllocator::PhysAllocator(GuestAddr base, uint64_t size)
{
    if (size > 0) {
        free_.emplace(base.value(), size);
        free_bytes_ = size;
    }
}

std::optional<GuestAddr> PhysAllocator::alloc(uint64_t size, uint64_t align)
{
    assert(align != 0 && (align & (align - 1)) == 0);
    if (size == 0)
        size = 1;
    // Round sizes up to the alignment unit so that frees coalesce cleanly.
    const uint64_t rounded = (size + 7) & ~uint64_t{7};
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        const uint64_t start = it->first;
        const uint64_t len = it->second;
        const uint64_t aligned = (start + align - 1) & ~(align - 1);
        if (aligned < start || aligned - start >= len || len - (aligned - start) < rounded)
            continue;
        const uint64_t head = aligned - start;
        const uint64_t tail = len - head - rounded;
        free_.erase(it);
        if (head)
            free_.emplace(start, head);
        if (tail)
            free_.emplace(aligned + rounded, tail);
        free_bytes_ -= rounded;
        return GuestAddr(aligned);
    }
    return std::nullopt;
}

void PhysAllocator::free(GuestAddr addr, uint64_t size)
{
    if (size == 0)
        size = 1;
    uint64_t start = addr.value();
    uint64_t len = (size + 7) & ~uint64_t{7};
    free_bytes_ += len;
    auto next = free_.lower_bound(start);
    assert(next == free_.end() || next->first >= start + len);
    if (next != free_.end() && next->first == start + len) {
        len += next->second;
        next = free_.erase(next);
    }
    if (next != free_.begin()) {
        auto prev = std::prev(next);
        assert(prev->first + prev->second <= start);
        if (prev->first + prev->second == start) {
            start = prev->first;
            len += prev->second;
            free_.erase(prev);
        }
    }
    free_.emplace(start, len);
}

} // namespace viommu::guest::mm
