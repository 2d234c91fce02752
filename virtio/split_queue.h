// The device side of a split virtqueue (virtio v1.2 §2.7).
//
// The three ring areas live in guest memory and are guest-controlled. SplitQueue validates their layout
// once (create), then validates every chain it pops: a chain reaches the device only through pop(), and
// only well-formed. Any malformed input is a QueueError, which the device turns into NEEDS_RESET.
//
// Hot path: pop() and push_used() do not allocate for chains of up to DescriptorChain::kInline segments
// and do not log; the ring areas are resolved to host spans once, at create().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "base/addr.h"
#include "base/expected.h"
#include "virtio/buffer_mapper.h"
#include "virtio/descriptor_chain.h"
#include "virtio/guest_memory.h"
#include "virtio/queue_error.h"
#include "virtio/queue_layout.h"
#include "virtio/wire/ring.h"

namespace viommu::virtio {

class SplitQueue {
public:
    // Validates the layout: size a power of two in 1..32768, each area aligned and inside one RAM region.
    [[nodiscard]] static Expected<SplitQueue, QueueError> create(GuestMemory& mem, uint32_t size,
                                                                 const QueueLayout& layout);

    // Pops the next available chain into `slot`, built in place (a chain is not moved on the hot
    // path). true: slot holds the chain; false: the driver made none available (slot is empty); an
    // error: the ring is malformed (slot is empty). A chain left in slot must have been returned.
    [[nodiscard]] Expected<bool, QueueError> pop_into(std::optional<DescriptorChain>& slot);

    // The same, returning the chain: for callers off the hot path.
    [[nodiscard]] Expected<std::optional<DescriptorChain>, QueueError> pop();

    // Returns a chain to the driver with `written` bytes written into its writable part (§2.7.8 "len").
    // Inline: the device calls it once per chain, and it is a few stores.
    void push_used(DescriptorChain&& chain, uint32_t written)
    {
        const wire::UsedElem elem{chain.head(), chain.clamp_written(written)};
        std::memcpy(used_.data() + wire::used_ring_entry_offset(used_idx_ & (size_ - 1)), &elem, sizeof elem);
        // The element must be visible before the index that publishes it (§2.7.13).
        std::atomic_thread_fence(std::memory_order_release);
        ++used_idx_;
        const le16 idx(used_idx_);
        std::memcpy(used_.data() + offsetof(wire::UsedHeader, idx), &idx, sizeof idx);
        chain.release();
    }

    // Gives a popped chain back unused: the next pop() returns it again (QEMU's virtqueue_unpop). Only
    // valid for the most recently popped chain.
    void unpop(DescriptorChain&& chain);

    // Forgets a chain without returning it, after the device has given up (QEMU's
    // virtqueue_detach_element). The driver never sees it used.
    static void detach(DescriptorChain&& chain);

    // Whether the driver wants a used-buffer notification for what was pushed since the last call
    // (§2.7.7: VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with VIRTIO_F_EVENT_IDX).
    [[nodiscard]] bool should_notify();

    // Asks the driver for (or to stop sending) available-buffer notifications (§2.7.10: used.flags
    // VIRTQ_USED_F_NO_NOTIFY, or avail_event with VIRTIO_F_EVENT_IDX).
    void set_notification(bool enabled);

    // Whether the driver has made buffers available that pop() has not taken yet.
    [[nodiscard]] bool has_available() const;

    uint32_t size() const { return size_; }
    const QueueLayout& layout() const { return layout_; }
    QueueIndices indices() const;
    void restore(const QueueIndices& indices);

private:
    SplitQueue(GuestMemory& mem, uint32_t size, const QueueLayout& layout, std::span<uint8_t> desc,
               std::span<uint8_t> avail, std::span<uint8_t> used);

    uint16_t load_avail_idx() const;
    [[nodiscard]] bool walk_common(DescriptorChain& chain, uint16_t head) const;
    [[nodiscard]] Expected<bool, QueueError> pop_after_free(std::optional<DescriptorChain>& slot);
    [[nodiscard]] Expected<bool, QueueError> pop_uncommon(std::optional<DescriptorChain>& slot, uint16_t head);
    void take(DescriptorChain& chain);
    // `head` is chain.head(), passed in a register: reading it back from the chain just built would
    // wait for the store.
    [[nodiscard]] Expected<void, QueueError> walk(DescriptorChain& chain, uint16_t head) const;

    QueueLayout layout_;
    uint32_t size_;
    // Host views of the three ring areas (guest-controlled bytes).
    std::span<uint8_t> desc_;
    std::span<uint8_t> avail_;
    std::span<uint8_t> used_;
    uint16_t next_avail_ = 0;
    uint16_t used_idx_ = 0;
    uint16_t signalled_used_ = 0;
    bool signalled_used_valid_ = false;
    bool notification_ = true;
    // Remembers the RAM region the last buffer was found in: most buffers of a queue live in the same
    // region, so the walk usually checks one range instead of searching the regions.
    mutable BufferMapper buffers_;
};

} // namespace viommu::virtio
