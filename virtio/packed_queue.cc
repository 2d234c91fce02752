#include "virtio/packed_queue.h"

#include <atomic>
#include <cstddef>
#include <cstring>

#include "base/checked.h"

namespace viommu::virtio {
namespace {

// §2.8.1: "VIRTQ_DESC_F_AVAIL and VIRTQ_DESC_F_USED bits are different for an available descriptor": AVAIL
// matches the wrap counter of the pass the reader is on, USED does not.
bool is_available(uint16_t flags, bool wrap)
{
    return ((flags & wire::kPackedDescFAvail) != 0) == wrap && ((flags & wire::kPackedDescFUsed) != 0) != wrap;
}

constexpr uint64_t kDescBytes = sizeof(wire::PackedDesc);

} // namespace

Expected<PackedQueue, QueueError> PackedQueue::create(GuestMemory& mem, uint32_t size, const QueueLayout& layout)
{
    if (size == 0 || size > wire::kMaxPackedQueueSize)
        return unexpected(QueueError::kBadSize);
    if (!is_aligned(layout.desc.value(), wire::kPackedDescAlign) ||
        !is_aligned(layout.avail.value(), wire::kEventSuppressAlign) ||
        !is_aligned(layout.used.value(), wire::kEventSuppressAlign))
        return unexpected(QueueError::kRingMisaligned);
    // Each area must be inside one region: the queue keeps a host view of it.
    const auto desc = mem.slice(layout.desc, wire::packed_desc_ring_bytes(size));
    const auto driver = mem.slice(layout.avail, sizeof(wire::EventSuppress));
    const auto device = mem.slice(layout.used, sizeof(wire::EventSuppress));
    if (!desc || !driver || !device)
        return unexpected(QueueError::kRingOutsideRam);
    return PackedQueue(mem, size, layout, *desc, *driver, *device);
}

PackedQueue::PackedQueue(GuestMemory& mem, uint32_t size, const QueueLayout& layout, std::span<uint8_t> desc,
                         std::span<uint8_t> driver, std::span<uint8_t> device)
    : layout_(layout), size_(size), desc_(desc), driver_(driver), device_(device), buffers_(mem)
{
}

uint16_t PackedQueue::load_flags(uint16_t pos) const
{
    const uint16_t flags = load_le16(desc_, pos * kDescBytes + offsetof(wire::PackedDesc, flags)); // guest-controlled
    // Read the rest of the descriptor (and the chain after it) only after the flags that publish it
    // (§2.8.21 Supplying Buffers to The Device, "Updating flags": the driver writes the flags last, after a
    // barrier).
    std::atomic_thread_fence(std::memory_order_acquire);
    return flags;
}

bool PackedQueue::has_available() const
{
    return is_available(load_flags(next_avail_), avail_wrap_);
}

Expected<bool, QueueError> PackedQueue::pop_into(std::optional<DescriptorChain>& slot)
{
    slot.reset();
    if (!is_available(load_flags(next_avail_), avail_wrap_))
        return false;
    DescriptorChain& chain = slot.emplace(Badge<PackedQueue>{}, 0);
    if (auto ok = walk(chain); !ok) {
        slot.reset();
        return unexpected(ok.error());
    }
    take(chain);
    return true;
}

Expected<std::optional<DescriptorChain>, QueueError> PackedQueue::pop()
{
    std::optional<DescriptorChain> slot;
    auto popped = pop_into(slot);
    if (!popped)
        return unexpected(popped.error());
    return slot;
}

// The list starting at next_avail_: descriptors in ring order, wrapping at its end, linked by NEXT
// (§2.8.6), or one descriptor pointing to an indirect table (§2.8.7).
Expected<void, QueueError> PackedQueue::walk(DescriptorChain& chain)
{
    uint16_t pos = next_avail_;
    bool wrap = avail_wrap_;
    uint32_t slots = 0;
    bool seen_writable = false;
    for (;;) {
        // §2.8.17: "A driver MUST NOT create a descriptor list longer than the Queue Size."
        if (slots == size_)
            return unexpected(QueueError::kChainTooLong);
        wire::PackedDesc desc; // guest-controlled
        std::memcpy(&desc, desc_.data() + pos * kDescBytes, sizeof desc);
        const uint16_t flags = desc.flags.get();
        // §2.8.17: "A driver MUST NOT make the first descriptor in the list available before all subsequent
        // descriptors comprising the list are made available." Without this the device would take
        // descriptors of the previous pass (or used ones) into the chain.
        if (slots > 0 && !is_available(flags, wrap))
            return unexpected(QueueError::kChainPartlyAvailable);
        ++slots;

        if (flags & wire::kDescFIndirect) {
            // §2.8.19: "The driver MUST NOT set the DESC_F_INDIRECT flag unless the VIRTIO_F_INDIRECT_DESC
            // feature was negotiated" and "MUST NOT write direct descriptors with DESC_F_INDIRECT set in a
            // scatter-gather list linked by VIRTQ_DESC_F_NEXT".
            if (!layout_.indirect)
                return unexpected(QueueError::kIndirectNotNegotiated);
            if (flags & wire::kDescFNext)
                return unexpected(QueueError::kIndirectWithNext);
            if (slots > 1)
                return unexpected(QueueError::kIndirectInList);
            if (auto ok = walk_indirect(chain, desc); !ok)
                return ok;
            chain.head_ = desc.id.get(); // the list's only descriptor carries its Buffer ID
            chain.ring_slots_ = 1;
            return {};
        }

        if (auto ok = buffers_.add_descriptor(chain, desc.addr.get(), desc.len.get(), flags & wire::kDescFWrite,
                                              seen_writable);
            !ok)
            return ok;
        if (!(flags & wire::kDescFNext)) {
            // §2.8.6: "Buffer ID is included in the last descriptor in the list."
            chain.head_ = desc.id.get();
            chain.ring_slots_ = static_cast<uint16_t>(slots);
            return {};
        }
        pos = advance(pos, 1, wrap);
    }
}

Expected<void, QueueError> PackedQueue::walk_indirect(DescriptorChain& chain, const wire::PackedDesc& indirect)
{
    // §2.8.7: "In descriptors with VIRTQ_DESC_F_INDIRECT set VIRTQ_DESC_F_WRITE is reserved and is ignored
    // by the device."
    const uint64_t table = indirect.addr.get();
    const auto entries = buffers_.indirect_table(table, indirect.len.get());
    if (!entries)
        return unexpected(entries.error());
    bool seen_writable = false;
    for (uint32_t i = 0; i < *entries; ++i) {
        // i < 32768 entries, so the offset cannot overflow; indirect_table() checked the table is RAM.
        const auto desc = buffers_.memory().read_obj<wire::PackedDesc>(GuestAddr(table + i * kDescBytes));
        if (!desc)
            return unexpected(QueueError::kBufferOutsideRam);
        // §2.8.7: "The VIRTQ_DESC_F_WRITE flags bit is the only valid flag for descriptors in the indirect
        // table. Others are reserved and are ignored by the device. Buffer ID is also reserved and is
        // ignored by the device." The table's length alone says where it ends; an INDIRECT or NEXT bit in
        // an entry changes nothing.
        if (auto ok = buffers_.add_descriptor(chain, desc->addr.get(), desc->len.get(),
                                              desc->flags.get() & wire::kDescFWrite, seen_writable);
            !ok)
            return ok;
    }
    return {};
}

// The chain leaves the ring: the device's next available position skips its descriptors.
void PackedQueue::take(DescriptorChain& chain)
{
    next_avail_ = advance(next_avail_, chain.ring_slots_, avail_wrap_);
    // With EVENT_IDX, ask to be notified again once the driver makes the next position available, as
    // SplitQueue::take() moves avail_event on.
    if (layout_.event_idx && notification_)
        write_event_offset();
    chain.arm();
}

void PackedQueue::write_event_offset()
{
    store_le16(device_, offsetof(wire::EventSuppress, off_wrap),
               static_cast<uint16_t>(next_avail_ | (uint16_t{avail_wrap_} << wire::kEventWrapShift)));
}

void PackedQueue::unpop(DescriptorChain&& chain)
{
    if (next_avail_ >= chain.ring_slots_) {
        next_avail_ = static_cast<uint16_t>(next_avail_ - chain.ring_slots_);
    } else {
        next_avail_ = static_cast<uint16_t>(next_avail_ + size_ - chain.ring_slots_);
        avail_wrap_ = !avail_wrap_;
    }
    chain.release();
}

void PackedQueue::detach(DescriptorChain&& chain)
{
    chain.release();
}

bool PackedQueue::should_notify()
{
    // Read the driver's suppression state only after the used descriptors are published.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const uint16_t flags = load_le16(driver_, offsetof(wire::EventSuppress, flags)) & wire::kRingEventFlagsMask;
    const uint16_t old = signalled_used_;
    const bool valid = signalled_used_valid_;
    signalled_used_ = used_pos_;
    signalled_used_valid_ = true;
    if (flags == wire::kRingEventFlagsDisable)
        return false;
    // ENABLE, the reserved value 3, and DESC without EVENT_IDX (§2.8.10: DESC is "Only valid if
    // VIRTIO_F_RING_EVENT_IDX has been negotiated") all get the notification: one too many is harmless.
    if (flags != wire::kRingEventFlagsDesc || !layout_.event_idx || !valid)
        return true;
    // The driver asks for an event once the descriptor at its offset, on the pass its wrap bit names, is
    // used. Seen from the device's current pass, an offset on the previous pass is one ring earlier
    // (QEMU's vring_packed_need_event() does the same).
    const uint16_t off_wrap = load_le16(driver_, offsetof(wire::EventSuppress, off_wrap)); // guest-controlled
    uint16_t off = off_wrap & static_cast<uint16_t>(~(1u << wire::kEventWrapShift));
    if (((off_wrap >> wire::kEventWrapShift) != 0) != used_wrap_)
        off = static_cast<uint16_t>(off - size_);
    return wire::need_event(off, used_pos_, old);
}

void PackedQueue::set_notification(bool enabled)
{
    notification_ = enabled;
    uint16_t flags = wire::kRingEventFlagsDisable;
    if (enabled && layout_.event_idx) {
        write_event_offset();
        flags = wire::kRingEventFlagsDesc;
    } else if (enabled) {
        flags = wire::kRingEventFlagsEnable;
    }
    // The offset must be visible before the flags that point the driver at it.
    std::atomic_thread_fence(std::memory_order_release);
    store_le16(device_, offsetof(wire::EventSuppress, flags), flags);
    // The driver must see the new suppression state before we look at the ring again.
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

QueueIndices PackedQueue::indices() const
{
    return {static_cast<uint16_t>(next_avail_ | (uint16_t{avail_wrap_} << wire::kEventWrapShift)),
            static_cast<uint16_t>(used_pos_ | (uint16_t{used_wrap_} << wire::kEventWrapShift)), signalled_used_,
            signalled_used_valid_};
}

bool PackedQueue::restore(const QueueIndices& indices)
{
    constexpr uint16_t kPos = static_cast<uint16_t>(~(1u << wire::kEventWrapShift));
    const uint16_t avail = indices.next_avail & kPos;
    const uint16_t used = indices.used_idx & kPos;
    if (avail >= size_ || used >= size_ || (indices.signalled_used_valid && indices.signalled_used >= size_))
        return false;
    next_avail_ = avail;
    avail_wrap_ = (indices.next_avail >> wire::kEventWrapShift) != 0;
    used_pos_ = used;
    used_wrap_ = (indices.used_idx >> wire::kEventWrapShift) != 0;
    signalled_used_ = indices.signalled_used;
    signalled_used_valid_ = indices.signalled_used_valid;
    return true;
}

} // namespace viommu::virtio
