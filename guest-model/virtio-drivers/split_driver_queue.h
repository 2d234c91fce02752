// The driver side of a split virtqueue (virtio v1.2 §2.7), modelled on the split functions of Linux's
// drivers/virtio/virtio_ring.c: the ring laid out as vring_create_virtqueue_split() lays it out, buffers
// added as chains (through an indirect table when virtqueue_use_indirect() would use one), the device
// kicked when virtqueue_kick_prepare() says so, and used buffers reaped with the checks of
// virtqueue_get_buf(). DriverQueue holds one of these unless VIRTIO_F_RING_PACKED was negotiated.
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

class SplitDriverQueue {
public:
    // size is a power of two; the used ring starts at the next multiple of ring_align
    // (VIRTIO_MMIO_VRING_ALIGN, or the PCI transport's).
    [[nodiscard]] static Expected<std::unique_ptr<SplitDriverQueue>, std::string>
    create(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, uint32_t size, bool event_idx, bool indirect,
           uint64_t ring_align);
    SplitDriverQueue(const SplitDriverQueue&) = delete;
    SplitDriverQueue& operator=(const SplitDriverQueue&) = delete;
    ~SplitDriverQueue();

    // The three addresses a transport gives the device (§2.6): descriptor table, available and used ring.
    GuestAddr desc_addr() const { return desc_; }
    GuestAddr driver_area() const { return avail_; }
    GuestAddr device_area() const { return used_; }
    uint32_t size() const { return size_; }
    uint32_t num_free() const { return num_free_; }
    bool broken() const { return bad_.broken(); }
    const std::string& broken_reason() const { return bad_.reason(); }

    // virtqueue_add_split(); through an indirect table when allow_indirect and virtqueue_use_indirect()
    // agree.
    [[nodiscard]] Expected<void, AddError> add(std::span<const Buf> out, std::span<const Buf> in, uint64_t token,
                                               bool allow_indirect);
    // virtqueue_kick_prepare_split().
    [[nodiscard]] bool kick_prepare();
    // virtqueue_get_buf_ctx_split() / more_used_split().
    std::optional<UsedBuf> get_buf();
    bool has_used() const;
    // virtqueue_disable_cb_split() / virtqueue_enable_cb_prepare_split() + virtqueue_poll_split().
    void disable_cb();
    bool enable_cb();

private:
    struct DescState {
        uint64_t token = 0;       // 0: not a head
        GuestAddr indirect;       // indirect table to free, if any
        uint32_t indirect_bytes = 0;
        uint16_t ndescs = 0;      // descriptors taken from the free list
    };
    SplitDriverQueue(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, GuestAddr ring, uint64_t ring_bytes,
                     uint32_t size, bool event_idx, bool indirect, uint64_t ring_align);
    void write_desc(GuestAddr table, uint32_t i, const Buf& b, uint16_t flags, uint16_t next);
    uint16_t read16(GuestAddr a) const;
    void write16(GuestAddr a, uint16_t v);

    virtio::GuestMemory* mem_;
    mm::PhysAllocator* alloc_;
    uint32_t size_;
    bool event_idx_;
    bool indirect_;
    GuestAddr ring_;
    uint64_t ring_bytes_;
    GuestAddr desc_, avail_, used_;
    std::vector<uint16_t> next_;  // desc_extra[].next: the free list and chain links, kept driver-side
    std::vector<DescState> state_;
    uint16_t free_head_ = 0;
    uint32_t num_free_;
    uint16_t avail_idx_shadow_ = 0;
    uint16_t avail_flags_shadow_ = 0;
    uint16_t num_added_ = 0;
    uint16_t last_used_idx_ = 0;
    BadRing bad_;
};

} // namespace viommu::guest::virtio_drivers
