// The device side of a packed virtqueue (virtio v1.2 §2.8).
//
// One descriptor ring that driver and device both write, plus two event suppression areas: the driver's
// (read by the device: does the driver want used buffer notifications?) and the device's (written by the
// device: does it want available buffer notifications?). The areas are guest-controlled. PackedQueue
// validates their layout once (create), then validates every chain it pops: a chain reaches the device
// only through pop(), and only well-formed. Any malformed input is a QueueError, which the device turns
// into NEEDS_RESET.
//
// Positions and wrap counters (§2.8.1): the device reads available descriptors at next_avail_ and writes
// used ones at used_pos_, each with its own ring wrap counter, both starting at 1. A chain of n ring
// descriptors moves next_avail_ on by n; its used descriptor moves used_pos_ on by n (§2.8.6), wherever
// the chain itself was: buffers may be used out of order, and the Buffer ID says which one it was.
//
// Hot path: pop() and push_used() do not allocate for chains of up to DescriptorChain::kInline segments
// and do not log; the ring areas are resolved to host spans once, at create().
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "base/expected.h"
#include "virtio/buffer_mapper.h"
#include "virtio/descriptor_chain.h"
#include "virtio/guest_memory.h"
#include "virtio/queue_error.h"
#include "virtio/queue_layout.h"
#include "virtio/wire/packed_ring.h"

namespace viommu::virtio {

class PackedQueue {
public:
    // Validates the layout: size in 1..32768 (no power of two needed, §2.8.10.1), the descriptor ring
    // 16-byte and each event suppression area 4-byte aligned, each inside one RAM region. layout.avail is
    // the driver area, layout.used the device area (§2.8: "Driver Event Suppression - occupies the Driver
    // Area", "Device Event Suppression - occupies the Device Area").
    [[nodiscard]] static Expected<PackedQueue, QueueError> create(GuestMemory& mem, uint32_t size,
                                                                  const QueueLayout& layout);

    // As SplitQueue::pop_into: true, slot holds the chain; false, nothing available; an error, the ring
    // is malformed. The slot is empty unless true.
    [[nodiscard]] Expected<bool, QueueError> pop_into(std::optional<DescriptorChain>& slot);
    [[nodiscard]] Expected<std::optional<DescriptorChain>, QueueError> pop();

    // Writes the chain's used descriptor at the device's next used position: its Buffer ID, `written`
    // bytes with VIRTQ_DESC_F_WRITE when the device wrote any (§2.8.3, §2.8.4), then the flags that
    // publish it, AVAIL and USED both equal to the device's wrap counter (§2.8.1).
    void push_used(DescriptorChain&& chain, uint32_t written)
    {
        written = chain.clamp_written(written);
        uint8_t* at = desc_.data() + uint64_t{used_pos_} * sizeof(wire::PackedDesc);
        const le16 id(chain.head());
        const le32 len(written);
        std::memcpy(at + offsetof(wire::PackedDesc, id), &id, sizeof id);
        std::memcpy(at + offsetof(wire::PackedDesc, len), &len, sizeof len);
        uint16_t flags = used_wrap_ ? (wire::kPackedDescFAvail | wire::kPackedDescFUsed) : 0;
        if (written > 0)
            flags |= wire::kDescFWrite;
        // The id and length must be visible before the flags that make the descriptor used: §2.8.15 "A
        // device MUST NOT change a descriptor after changing it's the VIRTQ_DESC_F_USED bit".
        std::atomic_thread_fence(std::memory_order_release);
        const le16 f(flags);
        std::memcpy(at + offsetof(wire::PackedDesc, flags), &f, sizeof f);
        used_pos_ = advance(used_pos_, chain.ring_slots_, used_wrap_);
        chain.release();
    }

    // Gives the most recently popped chain back unused: the next pop() returns it again.
    void unpop(DescriptorChain&& chain);
    static void detach(DescriptorChain&& chain);

    // Whether the driver wants a used buffer notification for what was pushed since the last call: the
    // driver event suppression area's flags, and with EVENT_IDX its descriptor offset and wrap (§2.8.10).
    [[nodiscard]] bool should_notify();

    // Asks the driver for (or to stop sending) available buffer notifications through the device event
    // suppression area (§2.8.10): DISABLE, or ENABLE, or with EVENT_IDX a DESC event at the next position
    // the device will read.
    void set_notification(bool enabled);

    [[nodiscard]] bool has_available() const;

    uint32_t size() const { return size_; }
    const QueueLayout& layout() const { return layout_; }
    // next_avail and used_idx are positions with their wrap counter in bit 15, as the event suppression
    // areas encode them (§2.8.14); signalled_used a position.
    QueueIndices indices() const;
    // false (nothing changed) when a position is not inside the ring.
    [[nodiscard]] bool restore(const QueueIndices& indices);

private:
    PackedQueue(GuestMemory& mem, uint32_t size, const QueueLayout& layout, std::span<uint8_t> desc,
                std::span<uint8_t> driver, std::span<uint8_t> device);

    // `pos` moved on by n < size positions, toggling `wrap` when it passes the end of the ring.
    uint16_t advance(uint16_t pos, uint32_t n, bool& wrap) const
    {
        uint32_t next = uint32_t{pos} + n;
        if (next >= size_) {
            next -= size_;
            wrap = !wrap;
        }
        return static_cast<uint16_t>(next);
    }
    uint16_t load_flags(uint16_t pos) const;
    [[nodiscard]] Expected<void, QueueError> walk(DescriptorChain& chain);
    [[nodiscard]] Expected<void, QueueError> walk_indirect(DescriptorChain& chain, const wire::PackedDesc& desc);
    void take(DescriptorChain& chain);
    void write_event_offset();

    QueueLayout layout_;
    uint32_t size_;
    // Host views of the three areas (guest-controlled bytes).
    std::span<uint8_t> desc_;
    std::span<uint8_t> driver_;
    std::span<uint8_t> device_;
    uint16_t next_avail_ = 0;
    bool avail_wrap_ = true; // §2.8.1: "initialized to 1"
    uint16_t used_pos_ = 0;
    bool used_wrap_ = true;
    uint16_t signalled_used_ = 0;
    bool signalled_used_valid_ = false;
    bool notification_ = true;
    BufferMapper buffers_;
};

} // namespace viommu::virtio
