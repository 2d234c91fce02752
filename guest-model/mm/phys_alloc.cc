#include "guest-model/mm/phys_alloc.h"

#include <algorithm>
#include <cassert>

namespace viommu::guest::mm {

namespace {

// Sizes are rounded up to the 8-byte unit so that frees coalesce cleanly.
uint64_t rounded(uint64_t size)
{
    return ((size == 0 ? 1 : size) + 7) & ~uint64_t{7};
}

} // namespace

PhysAllocator::PhysAllocator(GuestAddr base, uint64_t size)
{
    if (size > 0) {
        free_.push_back({base.value(), size});
        free_bytes_ = size;
    }
}

std::optional<GuestAddr> PhysAllocator::alloc(uint64_t size, uint64_t align)
{
    assert(align != 0 && (align & (align - 1)) == 0);
    const uint64_t want = rounded(size);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        const auto [start, len] = *it;
        const uint64_t aligned = (start + align - 1) & ~(align - 1);
        if (aligned < start || aligned - start >= len || len - (aligned - start) < want)
            continue;
        const uint64_t head = aligned - start;
        const uint64_t tail = len - head - want;
        if (head && tail) {
            it->len = head;
            free_.insert(it + 1, Range{aligned + want, tail});
        } else if (head) {
            it->len = head;
        } else if (tail) {
            *it = {aligned + want, tail};
        } else {
            free_.erase(it);
        }
        free_bytes_ -= want;
        return GuestAddr(aligned);
    }
    return std::nullopt;
}

void PhysAllocator::free(GuestAddr addr, uint64_t size)
{
    const uint64_t start = addr.value();
    const uint64_t len = rounded(size);
    free_bytes_ += len;
    auto next = std::lower_bound(free_.begin(), free_.end(), start, [](const Range& r, uint64_t s) { return r.start < s; });
    assert(next == free_.end() || next->start >= start + len);
    const bool joins_prev = next != free_.begin() && std::prev(next)->start + std::prev(next)->len == start;
    const bool joins_next = next != free_.end() && next->start == start + len;
    assert(next == free_.begin() || std::prev(next)->start + std::prev(next)->len <= start);
    if (joins_prev && joins_next) {
        std::prev(next)->len += len + next->len;
        free_.erase(next);
    } else if (joins_prev) {
        std::prev(next)->len += len;
    } else if (joins_next) {
        *next = {start, len + next->len};
    } else {
        free_.insert(next, Range{start, len});
    }
}

} // namespace viommu::guest::mm
