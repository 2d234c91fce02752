// The driver side of a packed virtqueue (virtio v1.2 §2.8), modelled on the packed functions of Linux's
// drivers/virtio/virtio_ring.c (1ce9e6055fa0 "virtio_ring: introduce packed ring support", v5.0): one
// descriptor ring written with the driver's avail wrap counter, buffer IDs taken from a free-id list
// (desc_extra[].next), used descriptors found with the used wrap counter, and the two event suppression
// structures. DriverQueue holds one of these when VIRTIO_F_RING_PACKED was negotiated.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/addr.h"
#include "base/expected.h"
#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio-drivers/buf.h"
#include "virtio/guest_memory.h"

namespace viommu::guest::virtio_drivers {

class PackedDriverQueue {
public:
    // vring_create_virtqueue_packed(): size need not be a power of two (§2.8.10.1).
    [[nodiscard]] static Expected<std::unique_ptr<PackedDriverQueue>, std::string>
    create(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, uint32_t size, bool event_idx, bool indirect);
    PackedDriverQueue(const PackedDriverQueue&) = delete;
    PackedDriverQueue& operator=(const PackedDriverQueue&) = delete;
    ~PackedDriverQueue();

    // The three addresses a transport gives the device (§2.8.10): the descriptor ring, and the driver's and
    // the device's event suppression structures.
    GuestAddr desc_addr() const { return desc_; }
    GuestAddr driver_area() const { return driver_event_; }
    GuestAddr device_area() const { return device_event_; }
    uint32_t size() const { return size_; }
    uint32_t num_free() const { return num_free_; }
    bool broken() const { return bad_.broken(); }
    const std::string& broken_reason() const { return bad_.reason(); }

    // virtqueue_add_packed(); through virtqueue_add_indirect_packed() when allow_indirect and
    // virtqueue_use_indirect() agree, falling back on direct descriptors when the table cannot be had.
    [[nodiscard]] Expected<void, AddError> add(std::span<const Buf> out, std::span<const Buf> in, uint64_t token,
                                               bool allow_indirect);
    // virtqueue_kick_prepare_packed().
    [[nodiscard]] bool kick_prepare();
    // virtqueue_get_buf_ctx_packed() / more_used_packed().
    std::optional<UsedBuf> get_buf();
    bool has_used() const { return is_used(last_used_, used_wrap_); }
    // virtqueue_disable_cb_packed() / virtqueue_enable_cb_prepare_packed() + virtqueue_poll_packed().
    void disable_cb();
    bool enable_cb();

private:
    struct Block { // what vring_alloc_queue_packed() took from the allocator
        GuestAddr at;
        uint64_t bytes = 0;
    };
    struct State {
        uint64_t token = 0; // 0: no buffer under this id
        GuestAddr indirect;
        uint32_t indirect_bytes = 0;
        uint16_t num = 0;  // ids (descriptors) the buffer took
        uint16_t last = 0; // the last id of its chain in the free-id list
    };
    PackedDriverQueue(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, Block ring, uint32_t size, bool event_idx,
                      bool indirect);
    Expected<void, AddError> add_indirect(std::span<const Buf> out, std::span<const Buf> in, uint64_t token);
    Expected<void, AddError> add_direct(std::span<const Buf> out, std::span<const Buf> in, uint64_t token);
    bool is_used(uint16_t idx, bool wrap) const;
    void write_body(GuestAddr table, uint32_t i, const Buf& b, uint16_t id);
    void write_flags(uint32_t i, uint16_t flags);
    void write_driver_event(uint64_t field_offset, uint16_t v);
    uint16_t packed_last_used() const;

    virtio::GuestMemory* mem_;
    mm::PhysAllocator* alloc_;
    Block ring_;
    GuestAddr desc_, driver_event_, device_event_;
    uint32_t size_;
    bool event_idx_; // VIRTIO_F_EVENT_IDX: DESC with off_wrap rather than ENABLE
    bool indirect_;  // VIRTIO_F_INDIRECT_DESC
    std::vector<uint16_t> next_; // desc_extra[].next: the free-id list
    std::vector<State> state_;   // desc_state[], by buffer id
    uint16_t free_head_ = 0;
    uint32_t num_free_;
    uint16_t next_avail_idx_ = 0;
    bool avail_wrap_ = true; // §2.8.1: both wrap counters start at 1
    uint16_t avail_used_flags_;
    uint16_t last_used_ = 0;
    bool used_wrap_ = true;
    uint16_t event_flags_shadow_ = 0; // RING_EVENT_FLAGS_ENABLE
    uint16_t num_added_ = 0;
    BadRing bad_;
};

} // namespace viommu::guest::virtio_drivers
