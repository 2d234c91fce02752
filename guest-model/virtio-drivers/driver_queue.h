// The driver side of a virtqueue, modelled on Linux's drivers/virtio/virtio_ring.c: a split ring
// (split_driver_queue.h) or, once VIRTIO_F_RING_PACKED is negotiated, a packed one
// (packed_driver_queue.h), behind the one interface virtio_ring.c gives drivers (virtqueue_add_sgs(),
// virtqueue_kick_prepare(), virtqueue_get_buf(), ...).
//
// Tests, fuzzers and the guest model all talk to devices through this class, so they exercise the
// same code a synthetic boot does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>

#include "base/addr.h"
#include "base/expected.h"
#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio-drivers/buf.h"
#include "guest-model/virtio-drivers/packed_driver_queue.h"
#include "guest-model/virtio-drivers/split_driver_queue.h"
#include "virtio/feature_bits.h"
#include "virtio/guest_memory.h"

namespace viommu::guest::profiles {
class Profile;
}

namespace viommu::guest::virtio_drivers {

class DriverQueue {
    // The one ring a queue has; with_ring() is what every method below forwards through (defined first
    // so that their return types are deduced).
    using Ring = std::variant<std::unique_ptr<SplitDriverQueue>, std::unique_ptr<PackedDriverQueue>>;
    explicit DriverQueue(Ring ring) : ring_(std::move(ring)) {}

    template <typename F>
    decltype(auto) with_ring(F&& f)
    {
        return std::visit([&](auto& r) -> decltype(auto) { return f(*r); }, ring_);
    }
    template <typename F>
    decltype(auto) with_ring(F&& f) const
    {
        return std::visit([&](const auto& r) -> decltype(auto) { return f(std::as_const(*r)); }, ring_);
    }

public:
    struct Options {
        uint32_t size = 0;     // a power of two (split); up to 2^15 (packed)
        bool packed = false;   // VIRTIO_F_RING_PACKED negotiated
        bool event_idx = false;
        bool indirect = false;
        uint64_t ring_align = 4096; // VIRTIO_MMIO_VRING_ALIGN (split rings)
    };

    [[nodiscard]] static Expected<DriverQueue, std::string> create(virtio::GuestMemory& mem, mm::PhysAllocator& alloc,
                                                                   const Options& options);

    bool packed() const { return std::holds_alternative<std::unique_ptr<PackedDriverQueue>>(ring_); }
    // The three queue addresses (§2.6): descriptor area, driver area, device area. For a split ring these
    // are the descriptor table, the available ring and the used ring; for a packed ring the descriptor
    // ring and the driver's and the device's event suppression structures (§2.8.10).
    GuestAddr desc_addr() const { return with_ring([](const auto& r) { return r.desc_addr(); }); }
    GuestAddr driver_area() const { return with_ring([](const auto& r) { return r.driver_area(); }); }
    GuestAddr device_area() const { return with_ring([](const auto& r) { return r.device_area(); }); }
    uint32_t size() const { return with_ring([](const auto& r) { return r.size(); }); }
    uint32_t num_free() const { return with_ring([](const auto& r) { return r.num_free(); }); }
    bool broken() const { return with_ring([](const auto& r) { return r.broken(); }); }
    const std::string& broken_reason() const
    {
        return with_ring([](const auto& r) -> const std::string& { return r.broken_reason(); });
    }

    // virtqueue_add_sgs(): out buffers are device-readable, in buffers device-writable. token must not
    // be 0; it comes back from get_buf().
    [[nodiscard]] Expected<void, AddError> add(std::span<const Buf> out, std::span<const Buf> in, uint64_t token)
    {
        return with_ring([&](auto& r) { return r.add(out, in, token, true); });
    }
    // Like add() but never through an indirect table (for tests that need direct chains).
    [[nodiscard]] Expected<void, AddError> add_direct(std::span<const Buf> out, std::span<const Buf> in, uint64_t token)
    {
        return with_ring([&](auto& r) { return r.add(out, in, token, false); });
    }

    // virtqueue_kick_prepare(): whether the device wants a notification for what was added.
    [[nodiscard]] bool kick_prepare() { return with_ring([](auto& r) { return r.kick_prepare(); }); }

    // virtqueue_get_buf(): the next used buffer, if any. A device that returns an id it was not given
    // breaks the queue (Linux's BAD_RING), after which nothing more is returned.
    std::optional<UsedBuf> get_buf() { return with_ring([](auto& r) { return r.get_buf(); }); }
    bool has_used() const { return with_ring([](const auto& r) { return r.has_used(); }); }

    // virtqueue_disable_cb() / virtqueue_enable_cb(): whether the driver wants used-buffer interrupts.
    void disable_cb() { with_ring([](auto& r) { r.disable_cb(); }); }
    // Returns false when buffers were used meanwhile (the caller should poll again), as Linux does.
    bool enable_cb() { return with_ring([](auto& r) { return r.enable_cb(); }); }

private:
    Ring ring_; // never null: create() makes one, and a moved-from queue is not used again
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
