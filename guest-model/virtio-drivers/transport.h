// What the virtio core sees of a transport (Linux's struct virtio_config_ops): status, features,
// virtqueues, notifications, device configuration and interrupts, whatever carries them. The
// virtio-iommu driver is written against this, so it runs over virtio-mmio and virtio-pci alike.
//
// The parts every transport shares live here: the virtqueues and their callbacks (vring_interrupt()),
// the generation-checked configuration read (__virtio_cread_many()), kick and the CPU's waits.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bus.h"
#include "base/expected.h"
#include "guest-model/virtio-drivers/driver_queue.h"
#include "virtio/feature_bits.h"

namespace viommu::guest::virtio_drivers {

// One queue a driver asks for (virtio_find_vqs()'s vqs_info): the callback runs for used buffers;
// none means the driver polls it and it needs no interrupt.
struct VqRequest {
    unsigned index = 0;
    std::function<void()> callback;
};

class VirtioTransport {
public:
    VirtioTransport(virtio::GuestMemory& memory, mm::PhysAllocator& allocator, WaitForEvent& cpu)
        : mem_(memory), alloc_(allocator), cpu_(cpu)
    {
    }
    VirtioTransport(const VirtioTransport&) = delete;
    VirtioTransport& operator=(const VirtioTransport&) = delete;
    virtual ~VirtioTransport() = default;

    // "virtio-mmio", "virtio-pci": the prefix of the transport's messages.
    virtual std::string_view name() const = 0;
    // The transport's probe; the error reads like Linux's.
    [[nodiscard]] virtual Expected<void, std::string> probe() = 0;
    virtual uint32_t device_id() = 0;

    // virtio_reset_device() and the status helpers of virtio.c.
    virtual void reset() = 0;
    virtual uint8_t status() = 0;
    void add_status(uint8_t bits) { set_status(static_cast<uint8_t>(status() | bits)); }
    void driver_ok() { add_status(virtio::status::kDriverOk); }

    virtual virtio::FeatureBits device_features() = 0;
    // Writes the features the driver accepts (plus those the transport itself takes), sets
    // FEATURES_OK and checks that it stuck (virtio_features_ok()).
    [[nodiscard]] virtual Expected<void, std::string> finalize_features(virtio::FeatureBits features) = 0;
    virtio::FeatureBits negotiated() const { return negotiated_; }

    // virtio_find_vqs(): every queue the driver uses, with its interrupt, at once.
    [[nodiscard]] virtual Expected<void, std::string> find_vqs(std::span<const VqRequest> queues) = 0;
    DriverQueue* vq(unsigned index);
    virtual void notify(unsigned index) = 0;
    // Adds nothing; kicks if the ring asks for it (virtqueue_kick()).
    void kick(unsigned index);
    // The CPU waits until queue `index` has used buffers or the device has nothing more to do (a driver
    // polling virtqueue_get_buf(), or sleeping until the used-buffer interrupt).
    void wait_used(unsigned index);
    // The CPU waits until neither the device nor an interrupt handler has anything more to do.
    void wait_idle();

    virtio::GuestMemory& memory() const { return mem_; }
    mm::PhysAllocator& allocator() const { return alloc_; }

    // virtio_cread*(): device-specific configuration, re-read while the generation changes.
    uint64_t config_read(uint32_t offset, unsigned size);
    void config_read_bytes(uint32_t offset, std::span<uint8_t> out);
    virtual void config_write(uint32_t offset, unsigned size, uint64_t value) = 0;

    void set_config_callback(std::function<void()> callback) { config_callback_ = std::move(callback); }
    uint64_t interrupts_taken() const { return interrupts_; }
    // Available-buffer notifications sent to the device: the kicks virtqueue_kick_prepare() let through.
    uint64_t notifications_sent() const { return notifications_; }

protected:
    virtual void set_status(uint8_t status) = 0;
    virtual uint32_t config_generation() = 0;
    virtual uint64_t device_config_read(uint32_t offset, unsigned size) = 0;

    // The ring options for a queue of num entries under the negotiated features.
    DriverQueue::Options ring_options(uint32_t num) const;
    DriverQueue* install_queue(unsigned index, DriverQueue ring, std::function<void()> callback);
    void drop_queues() { vqs_.clear(); }
    // vring_interrupt() for queue index, or for every queue (a shared interrupt).
    void vring_interrupt(std::optional<unsigned> index = std::nullopt);
    void config_changed();
    void count_interrupt() { ++interrupts_; }
    WaitForEvent& cpu() const { return cpu_; }

    virtio::FeatureBits negotiated_ = 0;

private:
    struct Vq {
        std::optional<DriverQueue> ring;
        std::function<void()> callback;
    };

    virtio::GuestMemory& mem_;
    mm::PhysAllocator& alloc_;
    WaitForEvent& cpu_;
    std::vector<Vq> vqs_;
    std::function<void()> config_callback_;
    uint64_t interrupts_ = 0;
    uint64_t notifications_ = 0;
};

} // namespace viommu::guest::virtio_drivers
