// The driver side of a virtqueue, modelled on Linux's drivers/virtio/virtio_ring.c. A split ring lives
// in guest memory laid out as vring_create_virtqueue_split() lays it out; buffers are added as chains
// (through an indirect table when virtqueue_use_indirect() would use one), the device is kicked when
// virtqueue_kick_prepare() says so, and used buffers are reaped with the checks of virtqueue_get_buf().
//
// Tests, fuzzers and the guest model all talk to devices through this class, so they exercise the
// same code a synthetic boot does.
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
#include "guest-model/virtio-drivers/packed_driver_queue.h"
#include "virtio/feature_bits.h"
#include "virtio/guest_memory.h"

namespace viommu::guest::profiles {
class Profile;
}

namespace viommu::guest::virtio_drivers {

class DriverQueue {
public:
    struct Options {
        uint32_t size = 0;     // a power of two (split); up to 2^15 (packed)
        bool packed = false;   // VIRTIO_F_RING_PACKED negotiated
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

    bool packed() const { return packed_ != nullptr; }
    // The three queue addresses (§2.6): descriptor table, driver area, device area. For a packed ring the
    // driver area is the driver event suppression structure and the device area the device's (§2.8.10).
    GuestAddr desc_addr() const { return packed_ ? packed_->desc_addr() : desc_; }
    GuestAddr avail_addr() const { return packed_ ? packed_->driver_event_addr() : avail_; }
    GuestAddr used_addr() const { return packed_ ? packed_->device_event_addr() : used_; }
    uint32_t size() const { return packed_ ? packed_->size() : size_; }
    uint32_t num_free() const { return packed_ ? packed_->num_free() : num_free_; }
    bool broken() const { return packed_ ? packed_->broken() : broken_; }
    const std::string& broken_reason() const { return packed_ ? packed_->broken_reason() : broken_reason_; }

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
    explicit DriverQueue(std::unique_ptr<PackedDriverQueue> packed);
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
    std::unique_ptr<PackedDriverQueue> packed_; // set: the packed ring does the work, the rest is unused
};

// What differs between the releases of virtio_ring, resolved once from the kernel profile (each switch is
// a behaviour of the facts table; from() is in ring_behaviour.cc).
struct VirtioRingBehaviour {
    // The ring code takes VIRTIO_F_RING_PACKED and lays out packed rings (1ce9e6055fa0 "virtio_ring:
    // introduce packed ring support", v5.0).
    bool packed_ring = true;

    static VirtioRingBehaviour from(const profiles::Profile& profile);
};

// vring_transport_features(): what the ring code keeps of the transport features a driver would accept.
// Before 1ce9e6055fa0 it cleared VIRTIO_F_RING_PACKED, so a device offering it (packed=on) got a driver
// on split rings.
constexpr virtio::FeatureBits ring_transport_features(virtio::FeatureBits features, const VirtioRingBehaviour& ring)
{
    return ring.packed_ring ? features : features & ~virtio::feature(virtio::kFRingPacked);
}

} // namespace viommu::guest::virtio_drivers
