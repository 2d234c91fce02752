// A descriptor chain the device popped from a virtqueue, split (§2.7) or packed (§2.8).
//
// Only SplitQueue::pop() and PackedQueue::pop() create one, after walking and validating every descriptor, so a chain in hand
// is well-formed: its readable segments come before its writable ones, every segment is guest RAM, and
// the totals fit in 32 bits. Segments are copied out of the ring at pop time, so a guest that rewrites its
// descriptor table afterwards cannot change what the device sees.
//
// A chain is move-only and must be handed back exactly once, to the queue it came from: push_used() or
// detach() (debug builds check this in the destructor).
#pragma once

#include <array>
#include <cassert>
#include <cstring>
#include <cstdint>
#include <memory>
#include <span>

#include "base/badge.h"

namespace viommu::virtio {

struct Segment {
    uint8_t* host; // inside guest RAM, valid for the life of the GuestMemory
    uint32_t len;
};

class BufferMapper;
class PackedQueue;
class SplitQueue;

class [[nodiscard]] DescriptorChain {
public:
    // Only a SplitQueue can build one (it holds the only Badge), in place inside the caller's slot.
    DescriptorChain(const Badge<SplitQueue>&, uint16_t head) : head_(head) {}
    // A packed ring's chain is named by its Buffer ID (§2.8.6), which head() returns.
    DescriptorChain(const Badge<PackedQueue>&, uint16_t id) : head_(id) {}

    // Inline: a chain is moved a few times between pop() and its consumer, on the hot path.
    DescriptorChain(DescriptorChain&& other) noexcept
        : heap_(std::move(other.heap_)), capacity_(other.capacity_), count_(other.count_),
          readable_count_(other.readable_count_), readable_bytes_(other.readable_bytes_),
          writable_bytes_(other.writable_bytes_), descriptors_(other.descriptors_), head_(other.head_),
          ring_slots_(other.ring_slots_), live_(other.live_)
    {
        // A fixed-size copy compiles to a few vector moves; entries past count_ are never read.
        if (!heap_)
            std::memcpy(inline_.data(), other.inline_.data(), sizeof inline_);
        other.live_ = false;
    }
    DescriptorChain& operator=(DescriptorChain&& other) noexcept;
    DescriptorChain(const DescriptorChain&) = delete;
    DescriptorChain& operator=(const DescriptorChain&) = delete;
    ~DescriptorChain() { assert(!live_ && "a descriptor chain was dropped without push_used() or detach()"); }

    // The split ring's head descriptor index; the packed ring's Buffer ID.
    uint16_t head() const { return head_; }
    std::span<const Segment> readable() const { return {data(), readable_count_}; }
    std::span<const Segment> writable() const { return {data() + readable_count_, count_ - readable_count_}; }
    // Totals, at most 2^32 together (§2.7.5.2).
    uint64_t readable_bytes() const { return readable_bytes_; }
    uint64_t writable_bytes() const { return writable_bytes_; }
    // Descriptors the chain was built from (indirect table entries included, the descriptor that points
    // to an indirect table excluded).
    uint32_t descriptor_count() const { return descriptors_; }
    // What a device may report written: never more than the driver offered (§2.7.8.2: "The device MUST
    // NOT ... set len ... more than the buffer size"; the packed ring's used length means the same).
    uint32_t clamp_written(uint32_t written) const
    {
        return written > writable_bytes_ ? static_cast<uint32_t>(writable_bytes_) : written;
    }

private:
    friend class BufferMapper;
    friend class PackedQueue;
    friend class SplitQueue;
    // Chains up to this many segments (a virtio-iommu request has 2) live inline, so popping them
    // does not allocate; longer ones spill to the heap.
    static constexpr uint32_t kInline = 4;

    const Segment* data() const { return heap_ ? heap_.get() : inline_.data(); }
    void append(Segment s, bool writable)
    {
        if (count_ == capacity_)
            grow();
        (heap_ ? heap_.get() : inline_.data())[count_++] = s;
        // The walk rejects a readable segment after a writable one, so readable segments are a prefix.
        if (!writable)
            ++readable_count_;
    }
    void grow();
    void arm() { live_ = true; }
    void release() { live_ = false; }

    // Left uninitialised: only the first count_ entries are ever read or copied.
    std::array<Segment, kInline> inline_;
    std::unique_ptr<Segment[]> heap_;
    uint32_t capacity_ = kInline;
    uint32_t count_ = 0;
    uint32_t readable_count_ = 0;
    uint64_t readable_bytes_ = 0;
    uint64_t writable_bytes_ = 0;
    uint32_t descriptors_ = 0;
    uint16_t head_ = 0;
    // Packed ring only: the ring descriptors the chain took (1 for an indirect table), which the device
    // skips when it writes the used descriptor (§2.8.6).
    uint16_t ring_slots_ = 0;
    bool live_ = false; // armed by a successful pop
};

} // namespace viommu::virtio
