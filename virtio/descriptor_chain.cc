#include "virtio/descriptor_chain.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace viommu::virtio {

DescriptorChain& DescriptorChain::operator=(DescriptorChain&& other) noexcept
{
    assert(!live_ && "a live descriptor chain was overwritten without being returned");
    if (this != &other) {
        heap_ = std::move(other.heap_);
        if (!heap_)
            std::memcpy(inline_.data(), other.inline_.data(), sizeof inline_);
        capacity_ = other.capacity_;
        count_ = other.count_;
        readable_count_ = other.readable_count_;
        readable_bytes_ = other.readable_bytes_;
        writable_bytes_ = other.writable_bytes_;
        descriptors_ = other.descriptors_;
        head_ = other.head_;
        ring_slots_ = other.ring_slots_;
        live_ = other.live_;
        other.live_ = false;
    }
    return *this;
}

void DescriptorChain::grow()
{
    // Only chains longer than kInline segments get here; the walk bounds their length.
    const uint32_t new_capacity = capacity_ * 2;
    auto grown = std::make_unique<Segment[]>(new_capacity);
    std::copy_n(data(), count_, grown.get());
    heap_ = std::move(grown);
    capacity_ = new_capacity;
}

} // namespace viommu::virtio
