#include "virtio/split_queue.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>

#include "base/checked.h"
#include "virtio/wire/ring.h"

namespace viommu::virtio {

Expected<SplitQueue, QueueError> SplitQueue::create(GuestMemory& mem, uint32_t size, const QueueLayout& layout)
{
    if (size == 0 || size > wire::kMaxQueueSize || !is_power_of_two(size))
        return unexpected(QueueError::kBadSize);
    if (!is_aligned(layout.desc.value(), wire::kDescAlign) || !is_aligned(layout.avail.value(), wire::kAvailAlign) ||
        !is_aligned(layout.used.value(), wire::kUsedAlign))
        return unexpected(QueueError::kRingMisaligned);
    // Each area must be inside one region: the queue keeps a host view of it.
    const auto desc = mem.slice(layout.desc, wire::desc_table_bytes(size));
    const auto avail = mem.slice(layout.avail, wire::avail_ring_bytes(size));
    const auto used = mem.slice(layout.used, wire::used_ring_bytes(size));
    if (!desc || !avail || !used)
        return unexpected(QueueError::kRingOutsideRam);
    return SplitQueue(mem, size, layout, *desc, *avail, *used);
}

SplitQueue::SplitQueue(GuestMemory& mem, uint32_t size, const QueueLayout& layout, std::span<uint8_t> desc,
                       std::span<uint8_t> avail, std::span<uint8_t> used)
    : layout_(layout), size_(size), desc_(desc), avail_(avail), used_(used), buffers_(mem)
{
}

[[gnu::always_inline]] inline uint16_t SplitQueue::load_avail_idx() const
{
    const uint16_t idx = load_le16(avail_, offsetof(wire::AvailHeader, idx)); // guest-controlled
    // Read ring entries only after the index that publishes them (§2.7.13 memory barriers).
    std::atomic_thread_fence(std::memory_order_acquire);
    return idx;
}

bool SplitQueue::has_available() const
{
    return load_avail_idx() != next_avail_;
}

// The chain almost every driver makes: a few direct descriptors whose buffers lie in the RAM region the
// queue's last buffer was in. It checks every rule walk() checks (a loop, or a chain longer than its
// table, is one of more than min(queue size, kInline) descriptors), but stops at the first descriptor
// outside that common case or breaking a rule, with nothing of the queue changed: pop_into() then walks
// the chain again with walk(), which handles every chain and names the rule broken. The descriptors are
// guest memory the driver may rewrite in between; walk() reads them again and checks all it uses.
[[gnu::always_inline]] inline bool SplitQueue::walk_common(DescriptorChain& chain, uint16_t head) const
{
    const GuestMemory::HostRegion region = buffers_.last_region();
    uint64_t bytes = 0;
    uint64_t readable_bytes = 0;
    uint32_t count = 0;
    uint32_t readable_count = 0; // == count until the first writable descriptor
    // More descriptors than the table holds make a loop (walk()'s time-to-live); more than kInline, a
    // chain for walk().
    const uint32_t limit = std::min(size_, DescriptorChain::kInline);
    uint32_t index = head;
    for (;;) {
        wire::Desc raw; // guest-controlled
        std::memcpy(&raw, desc_.data() + uint64_t{index} * sizeof(wire::Desc), sizeof raw);
        const uint16_t flags = raw.flags.get();
        const uint32_t len = raw.len.get();
        if ((flags & wire::kDescFIndirect) || len == 0)
            return false;
        const uint64_t offset = raw.addr.get() - region.base; // wraps when below: then it fails the test
        if (offset >= region.size || len > region.size - offset)
            return false;
        if (!(flags & wire::kDescFWrite)) {
            // §2.7.4.2: readable descriptors come before any writable one.
            if (readable_count != count)
                return false;
            ++readable_count;
            readable_bytes += len;
        }
        chain.inline_[count++] = Segment{region.host + offset, len};
        bytes += len; // at most kInline lengths under 2^32 each: no overflow
        if (!(flags & wire::kDescFNext))
            break;
        index = raw.next.get();
        if (index >= size_ || count == limit)
            return false;
    }
    // §2.7.5.2: at most 2^32 bytes in all.
    if (bytes > kMaxChainBytes)
        return false;
    chain.count_ = count;
    chain.readable_count_ = readable_count;
    chain.readable_bytes_ = readable_bytes;
    chain.writable_bytes_ = bytes - readable_bytes;
    chain.descriptors_ = count;
    return true;
}

Expected<bool, QueueError> SplitQueue::pop_into(std::optional<DescriptorChain>& slot)
{
    // A chain left in the slot has been returned (push_used, detach). One with its segments inline is
    // used again as it is: walk_common() sets every field a pop sets. One with heap segments is freed
    // out of line, so that this function makes no call on its common path.
    if (!slot.has_value())
        slot.emplace(Badge<SplitQueue>{}, 0);
    else if (slot->heap_) [[unlikely]]
        return pop_after_free(slot);
    DescriptorChain& chain = *slot;
    assert(!chain.live_ && "a live descriptor chain was left in the slot");

    const uint16_t avail_idx = load_avail_idx();
    // The index may run at most one full ring ahead (rust-vmm's InvalidAvailRingIndex, QEMU's "Guest
    // moved used index from %u to %u"): anything else would make the device reprocess stale entries.
    const uint16_t pending = static_cast<uint16_t>(avail_idx - next_avail_);
    if (pending > size_) {
        slot.reset();
        return unexpected(QueueError::kAvailIndexAhead);
    }
    if (pending == 0) {
        slot.reset();
        return false;
    }

    const uint16_t head = load_le16(avail_, wire::avail_ring_entry_offset(next_avail_ & (size_ - 1))); // guest-controlled
    if (head >= size_) {
        slot.reset();
        return unexpected(QueueError::kHeadOutOfRange);
    }

    chain.head_ = head;
    if (!walk_common(chain, head)) [[unlikely]]
        return pop_uncommon(slot, head);
    take(chain);
    return true;
}

// Any chain walk_common() does not take: the full walk, which names the first rule broken.
[[gnu::noinline]] Expected<bool, QueueError> SplitQueue::pop_uncommon(std::optional<DescriptorChain>& slot, uint16_t head)
{
    DescriptorChain& chain = slot.emplace(Badge<SplitQueue>{}, head); // as new: walk_common() changed it
    if (auto ok = walk(chain, head); !ok) {
        slot.reset();
        return unexpected(ok.error());
    }
    take(chain);
    return true;
}

[[gnu::noinline]] Expected<bool, QueueError> SplitQueue::pop_after_free(std::optional<DescriptorChain>& slot)
{
    slot.reset();
    return pop_into(slot);
}

// The chain leaves the available ring.
[[gnu::always_inline]] inline void SplitQueue::take(DescriptorChain& chain)
{
    ++next_avail_;
    // With EVENT_IDX, ask to be notified again once the driver goes past what we consumed (QEMU does
    // the same in virtqueue_split_pop).
    if (layout_.event_idx && notification_)
        store_le16(used_, wire::avail_event_offset(size_), next_avail_);
    chain.arm();
}

Expected<std::optional<DescriptorChain>, QueueError> SplitQueue::pop()
{
    std::optional<DescriptorChain> slot;
    auto popped = pop_into(slot);
    if (!popped)
        return unexpected(popped.error());
    return slot;
}

Expected<void, QueueError> SplitQueue::walk(DescriptorChain& chain, uint16_t head) const
{
    // Walk the descriptor table, then at most one indirect table. The time-to-live bounds the walk by
    // the table's size, which catches loops without a visited set (rust-vmm's ttl).
    uint64_t table = layout_.desc.value();
    uint32_t table_size = size_;
    bool indirect = false;
    uint32_t ttl = size_;
    uint16_t index = head;
    bool seen_writable = false;

    for (;;) {
        if (ttl == 0)
            return unexpected(QueueError::kChainTooLong);
        --ttl;

        wire::Desc desc; // guest-controlled
        if (!indirect) {
            std::memcpy(&desc, desc_.data() + uint64_t{index} * sizeof(wire::Desc), sizeof desc);
        } else {
            // index < table_size <= 32768, so the offset cannot overflow; the table was checked to be RAM.
            const auto d = buffers_.memory().read_obj<wire::Desc>(GuestAddr(table + uint64_t{index} * sizeof(wire::Desc)));
            if (!d)
                return unexpected(QueueError::kBufferOutsideRam);
            desc = *d;
        }
        const uint16_t flags = desc.flags.get();

        if (flags & wire::kDescFIndirect) {
            if (!layout_.indirect)
                return unexpected(QueueError::kIndirectNotNegotiated);
            // §2.7.5.3.1: "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within an indirect
            // descriptor" and "MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT".
            if (indirect)
                return unexpected(QueueError::kNestedIndirect);
            if (flags & wire::kDescFNext)
                return unexpected(QueueError::kIndirectWithNext);
            const auto entries = buffers_.indirect_table(desc.addr.get(), desc.len.get());
            if (!entries)
                return unexpected(entries.error());
            // §2.7.5.3.2: the device ignores VIRTQ_DESC_F_WRITE on the descriptor pointing to the table,
            // and handles direct descriptors followed by one indirect one: continue inside the table.
            table = desc.addr.get();
            table_size = *entries;
            ttl = table_size;
            indirect = true;
            index = 0;
            continue;
        }

        if (auto ok = buffers_.add_descriptor(chain, desc.addr.get(), desc.len.get(), flags & wire::kDescFWrite,
                                              seen_writable);
            !ok)
            return ok;

        if (!(flags & wire::kDescFNext))
            return {};
        const uint16_t next = desc.next.get();
        if (next >= table_size)
            return unexpected(QueueError::kNextOutOfRange);
        index = next;
    }
}

void SplitQueue::unpop(DescriptorChain&& chain)
{
    --next_avail_;
    chain.release();
}

void SplitQueue::detach(DescriptorChain&& chain)
{
    chain.release();
}

bool SplitQueue::should_notify()
{
    // Read the driver's suppression state only after the used index is published (§2.7.13).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!layout_.event_idx)
        return !(load_le16(avail_, offsetof(wire::AvailHeader, flags)) & wire::kAvailFNoInterrupt);
    const uint16_t old = signalled_used_;
    const bool valid = signalled_used_valid_;
    signalled_used_ = used_idx_;
    signalled_used_valid_ = true;
    if (!valid)
        return true;
    const uint16_t used_event = load_le16(avail_, wire::used_event_offset(size_)); // guest-controlled
    return wire::need_event(used_event, used_idx_, old);
}

void SplitQueue::set_notification(bool enabled)
{
    notification_ = enabled;
    if (layout_.event_idx) {
        if (enabled)
            store_le16(used_, wire::avail_event_offset(size_), load_avail_idx());
    } else {
        store_le16(used_, offsetof(wire::UsedHeader, flags), enabled ? 0 : wire::kUsedFNoNotify);
    }
    // The driver must see the new suppression state before we look at the ring again.
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

QueueIndices SplitQueue::indices() const
{
    return {next_avail_, used_idx_, signalled_used_, signalled_used_valid_};
}

void SplitQueue::restore(const QueueIndices& indices)
{
    next_avail_ = indices.next_avail;
    used_idx_ = indices.used_idx;
    signalled_used_ = indices.signalled_used;
    signalled_used_valid_ = indices.signalled_used_valid;
}

} // namespace viommu::virtio
