#include "guest-model/virtio-drivers/packed_driver_queue.h"

#include <atomic>
#include <cstddef>

#include <fmt/format.h>

#include "virtio/wire/packed_ring.h"

namespace viommu::guest::virtio_drivers {

namespace wire = virtio::wire;

namespace {
constexpr uint16_t kWrapBit = uint16_t{1} << wire::kEventWrapShift;
constexpr uint16_t kAvailUsed = wire::kPackedDescFAvail | wire::kPackedDescFUsed;
constexpr uint64_t kEventBytes = sizeof(wire::EventSuppress);
} // namespace

Expected<std::unique_ptr<PackedDriverQueue>, std::string>
PackedDriverQueue::create(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, uint32_t size, bool event_idx,
                          bool indirect)
{
    if (size == 0 || size > wire::kMaxPackedQueueSize)
        return unexpected(fmt::format("bad queue size {}", size));
    // vring_alloc_queue_packed() allocates the ring and the two event structures apart, zeroed; one block
    // (the ring, then the driver's, then the device's) gives the device the same three addresses.
    const uint64_t bytes = wire::packed_desc_ring_bytes(size) + 2 * kEventBytes;
    const auto ring = alloc.alloc(bytes, wire::kPackedDescAlign);
    if (!ring)
        return unexpected(fmt::format("no guest memory for a {}-entry packed ring ({} bytes)", size, bytes));
    if (!mem.fill(*ring, 0, bytes)) {
        alloc.free(*ring, bytes);
        return unexpected(std::string("ring allocated outside guest RAM"));
    }
    return std::unique_ptr<PackedDriverQueue>(
        new PackedDriverQueue(mem, alloc, Block{*ring, bytes}, size, event_idx, indirect));
}

PackedDriverQueue::PackedDriverQueue(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, Block ring, uint32_t size,
                                     bool event_idx, bool indirect)
    : mem_(&mem), alloc_(&alloc), ring_(ring), desc_(ring.at),
      driver_event_(ring.at.value() + wire::packed_desc_ring_bytes(size)),
      device_event_(driver_event_.value() + kEventBytes), size_(size), event_idx_(event_idx), indirect_(indirect),
      next_(size), state_(size), num_free_(size), avail_used_flags_(wire::kPackedDescFAvail)
{
    for (uint32_t i = 0; i + 1 < size_; ++i)
        next_[i] = static_cast<uint16_t>(i + 1);
}

PackedDriverQueue::~PackedDriverQueue()
{
    for (const State& s : state_)
        if (s.token && s.indirect_bytes)
            alloc_->free(s.indirect, s.indirect_bytes);
    alloc_->free(ring_.at, ring_.bytes);
}

void PackedDriverQueue::write_body(GuestAddr table, uint32_t i, const Buf& b, uint16_t id)
{
    const uint64_t at = table.value() + sizeof(wire::PackedDesc) * i;
    (void)mem_->write_obj(GuestAddr(at + offsetof(wire::PackedDesc, addr)), virtio::le64(b.addr.value()));
    (void)mem_->write_obj(GuestAddr(at + offsetof(wire::PackedDesc, len)), virtio::le32(b.len));
    (void)mem_->write_obj(GuestAddr(at + offsetof(wire::PackedDesc, id)), virtio::le16(id));
}

void PackedDriverQueue::write_flags(uint32_t i, uint16_t flags)
{
    const uint64_t at = desc_.value() + sizeof(wire::PackedDesc) * i + offsetof(wire::PackedDesc, flags);
    (void)mem_->write_obj(GuestAddr(at), virtio::le16(flags));
}

void PackedDriverQueue::write_driver_event(uint64_t field_offset, uint16_t v)
{
    (void)mem_->write_obj(GuestAddr(driver_event_.value() + field_offset), virtio::le16(v));
}

uint16_t PackedDriverQueue::packed_last_used() const
{
    // last_used_idx with the used wrap counter in bit 15, the off_wrap encoding of §2.8.14.
    return static_cast<uint16_t>(last_used_ | (used_wrap_ ? kWrapBit : 0));
}

Expected<void, AddError> PackedDriverQueue::add(std::span<const Buf> out, std::span<const Buf> in, uint64_t token,
                                                bool allow_indirect)
{
    const std::size_t total = out.size() + in.size();
    if (const auto refused = add_refusal(bad_.broken(), total, token))
        return unexpected(*refused);
    // virtqueue_use_indirect(): a table for any chain of more than one buffer while an id is free; on
    // -ENOMEM virtqueue_add_packed() falls back on direct descriptors.
    if (allow_indirect && indirect_ && total > 1 && num_free_ > 0) {
        auto r = add_indirect(out, in, token);
        if (r || r.error() != AddError::kNoMemory)
            return r;
    }
    return add_direct(out, in, token);
}

Expected<void, AddError> PackedDriverQueue::add_indirect(std::span<const Buf> out, std::span<const Buf> in,
                                                         uint64_t token)
{
    const std::size_t total = out.size() + in.size();
    const auto table_bytes = static_cast<uint32_t>(sizeof(wire::PackedDesc) * total);
    const auto table = alloc_->alloc(table_bytes, wire::kPackedDescAlign);
    if (!table)
        return unexpected(AddError::kNoMemory);
    if (num_free_ < 1) {
        alloc_->free(*table, table_bytes);
        return unexpected(AddError::kNoSpace);
    }
    // §2.8.7: the table's descriptors are read in order, so they carry no NEXT; their ids are unused.
    for (std::size_t i = 0; i < total; ++i) {
        const ChainBuf c = chain_buf(out, in, i);
        const wire::PackedDesc d{c.buf.addr.value(), c.buf.len, 0, c.writable ? wire::kDescFWrite : uint16_t{0}};
        (void)mem_->write_obj(GuestAddr(table->value() + sizeof(wire::PackedDesc) * i), d);
    }
    const uint16_t head = next_avail_idx_;
    const uint16_t id = free_head_;
    write_body(desc_, head, Buf{*table, table_bytes}, id);
    // §2.8.21.1: the head's flags last, once the rest of the buffer is visible.
    std::atomic_thread_fence(std::memory_order_release);
    write_flags(head, static_cast<uint16_t>(wire::kDescFIndirect | avail_used_flags_));

    --num_free_;
    uint32_t n = head + 1u;
    if (n >= size_) {
        n = 0;
        avail_wrap_ = !avail_wrap_;
        avail_used_flags_ ^= kAvailUsed;
    }
    next_avail_idx_ = static_cast<uint16_t>(n);
    free_head_ = next_[id];
    state_[id] = State{token, *table, table_bytes, 1, id};
    ++num_added_;
    return {};
}

Expected<void, AddError> PackedDriverQueue::add_direct(std::span<const Buf> out, std::span<const Buf> in,
                                                       uint64_t token)
{
    const std::size_t total = out.size() + in.size();
    if (num_free_ < total)
        return unexpected(AddError::kNoSpace);
    const uint16_t head = next_avail_idx_;
    const uint16_t id = free_head_;
    uint32_t i = head;
    uint16_t curr = id;
    uint16_t prev = id;
    uint16_t head_flags = 0;
    for (std::size_t n = 0; n < total; ++n) {
        const ChainBuf c = chain_buf(out, in, n);
        // Every descriptor of the chain carries the buffer id (§2.8.6); the wrap counter's AVAIL/USED
        // pair flips where the chain crosses the end of the ring.
        uint16_t flags = avail_used_flags_;
        if (n + 1 < total)
            flags |= wire::kDescFNext;
        if (c.writable)
            flags |= wire::kDescFWrite;
        write_body(desc_, i, c.buf, id);
        if (i == head)
            head_flags = flags;
        else
            write_flags(i, flags);
        prev = curr;
        curr = next_[curr];
        if (++i >= size_) {
            i = 0;
            avail_used_flags_ ^= kAvailUsed;
        }
    }
    // i <= head, not i < head: a chain as long as the ring ends where it began (1acfe2c12258
    // "virtio_ring: fix avail_wrap_counter in virtqueue_add_packed", v6.6; before it such a chain left
    // the counter unflipped).
    if (i <= head)
        avail_wrap_ = !avail_wrap_;
    num_free_ -= static_cast<uint32_t>(total);
    next_avail_idx_ = static_cast<uint16_t>(i);
    free_head_ = curr;
    state_[id] = State{token, GuestAddr{}, 0, static_cast<uint16_t>(total), prev};
    // §2.8.21.1: the head's flags last, once the rest of the chain is visible.
    std::atomic_thread_fence(std::memory_order_release);
    write_flags(head, head_flags);
    num_added_ = static_cast<uint16_t>(num_added_ + total);
    return {};
}

bool PackedDriverQueue::kick_prepare()
{
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const uint16_t new_idx = next_avail_idx_;
    const auto old_idx = static_cast<uint16_t>(new_idx - num_added_);
    num_added_ = 0;
    const auto ev = mem_->read_obj<wire::EventSuppress>(device_event_).value_or(wire::EventSuppress{});
    const uint16_t flags = ev.flags.get();
    if (flags != wire::kRingEventFlagsDesc)
        return flags != wire::kRingEventFlagsDisable;
    // §2.8.10: DESC names a descriptor position and the wrap counter it is for.
    const uint16_t off_wrap = ev.off_wrap.get();
    const bool wrap = off_wrap >> wire::kEventWrapShift;
    auto event_idx = static_cast<uint16_t>(off_wrap & ~kWrapBit);
    if (wrap != avail_wrap_)
        event_idx = static_cast<uint16_t>(event_idx - size_);
    return wire::need_event(event_idx, new_idx, old_idx);
}

bool PackedDriverQueue::is_used(uint16_t idx, bool wrap) const
{
    // is_used_desc_packed(), §2.8.1: used when AVAIL and USED both equal the used wrap counter.
    const uint64_t at = desc_.value() + sizeof(wire::PackedDesc) * idx + offsetof(wire::PackedDesc, flags);
    const uint16_t flags = mem_->read_obj<virtio::le16>(GuestAddr(at)).value_or(virtio::le16{}).get();
    const bool avail = flags & wire::kPackedDescFAvail;
    const bool used = flags & wire::kPackedDescFUsed;
    return avail == used && used == wrap;
}

std::optional<UsedBuf> PackedDriverQueue::get_buf()
{
    if (bad_.broken() || !has_used())
        return std::nullopt;
    std::atomic_thread_fence(std::memory_order_acquire);
    const auto d = mem_->read_obj<wire::PackedDesc>(GuestAddr(desc_.value() + sizeof(wire::PackedDesc) * last_used_));
    const uint32_t id = d ? d->id.get() : size_;
    if (auto why = bad_used_id(id, size_, id < size_ && state_[id].token != 0)) {
        bad_.mark(std::move(*why));
        return std::nullopt;
    }
    // detach_buf_packed(): the buffer's ids go back on the free-id list, by the driver's own record.
    const State st = state_[id];
    state_[id] = State{};
    next_[st.last] = free_head_;
    free_head_ = static_cast<uint16_t>(id);
    num_free_ += st.num;
    if (st.indirect_bytes)
        alloc_->free(st.indirect, st.indirect_bytes);

    // The device wrote one used descriptor for the buffer's num ring slots (§2.8.9).
    uint32_t next = last_used_ + uint32_t{st.num};
    if (next >= size_) {
        next -= size_;
        used_wrap_ = !used_wrap_;
    }
    last_used_ = static_cast<uint16_t>(next);
    // With DESC, ask for the interrupt for the next used descriptor.
    if (event_flags_shadow_ == wire::kRingEventFlagsDesc) {
        write_driver_event(offsetof(wire::EventSuppress, off_wrap), packed_last_used());
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    return UsedBuf{st.token, d->len.get()};
}

void PackedDriverQueue::disable_cb()
{
    if (event_flags_shadow_ != wire::kRingEventFlagsDisable) {
        event_flags_shadow_ = wire::kRingEventFlagsDisable;
        write_driver_event(offsetof(wire::EventSuppress, flags), event_flags_shadow_);
    }
}

bool PackedDriverQueue::enable_cb()
{
    const uint16_t snapshot = packed_last_used();
    if (event_idx_) {
        // The event position and wrap counter before the flags that make the device read them.
        write_driver_event(offsetof(wire::EventSuppress, off_wrap), snapshot);
        std::atomic_thread_fence(std::memory_order_release);
    }
    if (event_flags_shadow_ == wire::kRingEventFlagsDisable) {
        event_flags_shadow_ = event_idx_ ? wire::kRingEventFlagsDesc : wire::kRingEventFlagsEnable;
        write_driver_event(offsetof(wire::EventSuppress, flags), event_flags_shadow_);
    }
    // virtqueue_poll_packed(): false when buffers were used meanwhile (the caller polls again).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return !is_used(static_cast<uint16_t>(snapshot & ~kWrapBit), snapshot & kWrapBit);
}

} // namespace viommu::guest::virtio_drivers
