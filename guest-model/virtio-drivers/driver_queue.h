// The driver side of a split virtqueue, modelled on Linux's drivers/virtio/virtio_ring.c: the ring lives
// in guest memory laid out as vring_create_virtqueue_split() lays it out; buffers are added as chains
// (through an indirect table when virtqueue_use_indirect() would use one), the device is kicked when
// virtqueue_kick_prepare() says so, and used buffers are reaped with the checks of virtqueue_get_buf().
//
// Tests, fuzzers and the guest model all talk to devices through this class, so they exercise the
// same code a synthetic boot does.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/addr.h"
#include "base/expected.h"
#include "guest-model/mm/phys_alloc.h"
#include "virtio/feature_bits.h"
#include "virtio/guest_memory.h"

namespace viommu::guest::virtio_drivers {

struct Buf {
    GuestAddr addr;
    uint32_t len = 0;
};

struct UsedBuf {
    uint64_t token = 0;
    uint32_t len = 0;
};

enum class AddError { kEmpty, kNoSpace, kNoMemory, kBroken };

class DriverQueue {
public:
    struct Options {
        uint32_t size = 0;     // a power of two
        bool event_idx = false;
        bool indirect = false;
        uint64_t ring_align = 4096; // VIRTIO_MMIO_VRING_ALIGN
    };

    [[nodiscard]] static Expected<DriverQueue, std::string> create(virtio::GuestMemory& mem, mm::PhysAllocator& alloc,
                                                                   const Options& options);
    DriverQueue(DriverQueue&& other) noexcept;
    DriverQueue& operator=(DriverQueue&&) = delete;
    DriverQueue(const DriverQueue&) = delete;
    ~DriverQueue();

    GuestAddr desc_addr() const { return desc_; }
    GuestAddr avail_addr() const { return avail_; }
    GuestAddr used_addr() const { return used_; }
    uint32_t size() const { return size_; }
    uint32_t num_free() const { return num_free_; }
    bool broken() const { return broken_; }
    const std::string& broken_reason() const { return broken_reason_; }

    // virtqueue_add_sgs(): out buffers are device-readable, in buffers device-writable. token must not
    // be 0; it comes back from get_buf().
    [[nodiscard]] Expected<void, AddError> add(std::span<const Buf> out, std::span<const Buf> in, uint64_t token);
    // Like add() but never through an indirect table (for tests that need direct chains).
    [[nodiscard]] Expected<void, AddError> add_direct(std::span<const Buf> out, std::span<const Buf> in, uint64_t token);

    // virtqueue_kick_prepare(): whether the device wants a notification for what was added.
    [[nodiscard]] bool kick_prepare();

    // virtqueue_get_buf(): the next used buffer, if any. A device that returns an id it was not given
    // breaks the queue (Linux's BAD_RING), after which nothing more is returned.
    std::optional<UsedBuf> get_buf();
    bool has_used() const;

    // virtqueue_disable_cb() / virtqueue_enable_cb(): whether the driver wants used-buffer interrupts.
    void disable_cb();
    // Returns false when buffers were used meanwhile (the caller should poll again), as Linux does.
    bool enable_cb();

private:
    struct DescState {
        uint64_t token = 0;       // 0: not a head
        GuestAddr indirect;       // indirect table to free, if any
        uint32_t indirect_bytes = 0;
        uint16_t ndescs = 0;      // descriptors taken from the free list
    };
    DriverQueue(virtio::GuestMemory& mem, mm::PhysAllocator& alloc, const Options& options, GuestAddr ring,
                uint64_t ring_bytes);
    Expected<void, AddError> add_chain(std::span<const Buf> out, std::span<const Buf> in, uint64_t token,
                                       bool allow_indirect);
    void write_desc(GuestAddr table, uint32_t i, const Buf& b, uint16_t flags, uint16_t next);
    void bad_ring(std::string why);
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
    bool broken_ = false;
    std::string broken_reason_;
};

// vring_transport_features(): what the ring code keeps of the transport features a driver would accept.
// DriverQueue lays out split rings only, so VIRTIO_F_RING_PACKED (which Linux's ring code takes since
// 1ce9e6055fa0 "virtio_ring: introduce packed ring support", v5.0) is dropped: a device offering it
// (packed=on) gets a driver that keeps split rings, as from a kernel without packed ring support.
constexpr virtio::FeatureBits ring_transport_features(virtio::FeatureBits features)
{
    return features & ~virtio::feature(virtio::kFRingPacked);
}

} // namespace viommu::guest::virtio_drivers
