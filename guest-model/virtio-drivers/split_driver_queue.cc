#include "guest-model/virtio-drivers/split_driver_queue.h"

#include <atomic>

#include <fmt/format.h>

#include "base/checked.h"
#include "virtio/wire/ring.h"

namespace viommu::guest::virtio_drivers {

namespace wire = virtio::wire;

namespace {
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
} // namespace

Expected<std::unique_ptr<SplitDriverQueue>, std::string>
SplitDriverQueue::create(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, uint32_t size, bool event_idx, bool indirect,
                         uint64_t ring_align)
{
    if (!is_power_of_two(size) || size > wire::kMaxQueueSize)
        return unexpected(fmt::format("bad queue size {}", size));
    // vring_size(): descriptors, then the available ring, then the used ring at the next alignment.
    const uint64_t avail_end = wire::desc_table_bytes(size) + wire::avail_ring_bytes(size);
    const uint64_t bytes = align_up(avail_end, ring_align) + wire::used_ring_bytes(size);
    const auto ring = alloc.alloc(bytes, std::max<uint64_t>(ring_align, wire::kDescAlign));
    if (!ring)
        return unexpected(fmt::format("no guest memory for a {}-entry ring ({} bytes)", size, bytes));
    if (!mem.fill(*ring, 0, bytes)) {
        alloc.free(*ring, bytes);
        return unexpected(std::string("ring allocated outside guest RAM"));
    }
    return std::unique_ptr<SplitDriverQueue>(
        new SplitDriverQueue(mem, alloc, *ring, bytes, size, event_idx, indirect, ring_align));
}

SplitDriverQueue::SplitDriverQueue(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, GuestAddr ring,
                                   uint64_t ring_bytes, uint32_t size, bool event_idx, bool indirect, uint64_t ring_align)
    : mem_(&mem), alloc_(&alloc), size_(size), event_idx_(event_idx), indirect_(indirect),
      ring_(ring), ring_bytes_(ring_bytes), desc_(ring), avail_(ring.value() + wire::desc_table_bytes(size)),
      used_(align_up(avail_.value() + wire::avail_ring_bytes(size), ring_align)), next_(size),
      state_(size), num_free_(size)
{
    for (uint32_t i = 0; i + 1 < size_; ++i)
        next_[i] = static_cast<uint16_t>(i + 1);
}

SplitDriverQueue::~SplitDriverQueue()
{
    for (DescState& s : state_)
        if (s.token && s.indirect_bytes)
            alloc_->free(s.indirect, s.indirect_bytes);
    alloc_->free(ring_, ring_bytes_);
}

uint16_t SplitDriverQueue::read16(GuestAddr a) const
{
    return mem_->read_obj<virtio::le16>(a).value_or(virtio::le16{}).get();
}

void SplitDriverQueue::write16(GuestAddr a, uint16_t v)
{
    (void)mem_->write_obj(a, virtio::le16(v));
}

void SplitDriverQueue::write_desc(GuestAddr table, uint32_t i, const Buf& b, uint16_t flags, uint16_t next)
{
    const wire::Desc d{b.addr.value(), b.len, flags, next};
    (void)mem_->write_obj(GuestAddr(table.value() + 16ull * i), d);
}

Expected<void, AddError> SplitDriverQueue::add(std::span<const Buf> out, std::span<const Buf> in, uint64_t token,
                                           bool allow_indirect)
{
    const std::size_t total = out.size() + in.size();
    if (const auto refused = add_refusal(bad_.broken(), total, token))
        return unexpected(*refused);

    // virtqueue_use_indirect(): an indirect table for any chain of more than one buffer while a
    // descriptor is free.
    const bool use_indirect = allow_indirect && indirect_ && total > 1 && num_free_ > 0;
    // A chain's descriptor flags, in the ring or in a table: WRITE on the in buffers, NEXT on all but the last.
    auto flags_of = [&](std::size_t n) {
        return static_cast<uint16_t>((chain_buf(out, in, n).writable ? wire::kDescFWrite : 0) |
                                     (n + 1 < total ? wire::kDescFNext : 0));
    };
    GuestAddr table;
    uint32_t table_bytes = 0;
    if (use_indirect) {
        table_bytes = static_cast<uint32_t>(16 * total);
        const auto t = alloc_->alloc(table_bytes, 16);
        if (!t)
            return unexpected(AddError::kNoMemory);
        table = *t;
        for (std::size_t n = 0; n < total; ++n)
            write_desc(table, static_cast<uint32_t>(n), chain_buf(out, in, n).buf, flags_of(n),
                       static_cast<uint16_t>(n + 1));
    }
    const uint32_t needed = use_indirect ? 1 : static_cast<uint32_t>(total);
    if (num_free_ < needed) {
        if (use_indirect)
            alloc_->free(table, table_bytes);
        return unexpected(AddError::kNoSpace);
    }

    const uint16_t head = free_head_;
    uint16_t i = head;
    if (use_indirect) {
        write_desc(desc_, i, Buf{table, table_bytes}, wire::kDescFIndirect, 0);
        i = next_[i];
    } else {
        for (std::size_t n = 0; n < total; ++n) {
            write_desc(desc_, i, chain_buf(out, in, n).buf, flags_of(n), next_[i]);
            i = next_[i];
        }
    }
    free_head_ = i;
    num_free_ -= needed;
    state_[head] = DescState{token, table, table_bytes, static_cast<uint16_t>(needed)};

    // Publish the head, then the index (§2.7.13: the ring entry before the index).
    const uint16_t slot = avail_idx_shadow_ & static_cast<uint16_t>(size_ - 1);
    write16(GuestAddr(avail_.value() + wire::avail_ring_entry_offset(slot)), head);
    std::atomic_thread_fence(std::memory_order_release);
    ++avail_idx_shadow_;
    write16(GuestAddr(avail_.value() + offsetof(wire::AvailHeader, idx)), avail_idx_shadow_);
    ++num_added_;
    return {};
}

bool SplitDriverQueue::kick_prepare()
{
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const uint16_t new_idx = avail_idx_shadow_;
    const uint16_t old_idx = static_cast<uint16_t>(new_idx - num_added_);
    num_added_ = 0;
    if (event_idx_) {
        const uint16_t avail_event = read16(GuestAddr(used_.value() + wire::avail_event_offset(size_)));
        return wire::need_event(avail_event, new_idx, old_idx);
    }
    return !(read16(GuestAddr(used_.value() + offsetof(wire::UsedHeader, flags))) & wire::kUsedFNoNotify);
}

bool SplitDriverQueue::has_used() const
{
    return read16(GuestAddr(used_.value() + offsetof(wire::UsedHeader, idx))) != last_used_idx_;
}

std::optional<UsedBuf> SplitDriverQueue::get_buf()
{
    if (bad_.broken() || !has_used())
        return std::nullopt;
    std::atomic_thread_fence(std::memory_order_acquire);
    const uint16_t slot = last_used_idx_ & static_cast<uint16_t>(size_ - 1);
    const auto elem = mem_->read_obj<wire::UsedElem>(GuestAddr(used_.value() + wire::used_ring_entry_offset(slot)));
    const uint32_t id = elem ? elem->id.get() : size_;
    if (auto why = bad_used_id(id, size_, id < size_ && state_[id].token != 0)) {
        bad_.mark(std::move(*why));
        return std::nullopt;
    }
    // detach_buf_split(): return the chain's descriptors to the free list, following the driver's own
    // links rather than anything the device could have touched.
    DescState st = state_[id];
    state_[id] = DescState{};
    uint16_t tail = static_cast<uint16_t>(id);
    for (uint16_t n = 1; n < st.ndescs; ++n)
        tail = next_[tail];
    next_[tail] = free_head_;
    free_head_ = static_cast<uint16_t>(id);
    num_free_ += st.ndescs;
    if (st.indirect_bytes)
        alloc_->free(st.indirect, st.indirect_bytes);

    ++last_used_idx_;
    // With EVENT_IDX, ask for the next interrupt right after this buffer (virtqueue_get_buf_ctx_split).
    if (event_idx_ && !(avail_flags_shadow_ & wire::kAvailFNoInterrupt))
        write16(GuestAddr(avail_.value() + wire::used_event_offset(size_)), last_used_idx_);
    return UsedBuf{st.token, elem->len.get()};
}

void SplitDriverQueue::disable_cb()
{
    if (!(avail_flags_shadow_ & wire::kAvailFNoInterrupt)) {
        avail_flags_shadow_ |= wire::kAvailFNoInterrupt;
        if (!event_idx_)
            write16(GuestAddr(avail_.value() + offsetof(wire::AvailHeader, flags)), avail_flags_shadow_);
    }
}

bool SplitDriverQueue::enable_cb()
{
    if (avail_flags_shadow_ & wire::kAvailFNoInterrupt) {
        avail_flags_shadow_ &= static_cast<uint16_t>(~wire::kAvailFNoInterrupt);
        if (!event_idx_)
            write16(GuestAddr(avail_.value() + offsetof(wire::AvailHeader, flags)), avail_flags_shadow_);
    }
    if (event_idx_)
        write16(GuestAddr(avail_.value() + wire::used_event_offset(size_)), last_used_idx_);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return !has_used();
}

} // namespace viommu::guest::virtio_drivers
