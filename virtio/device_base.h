// What every virtio device has, independent of its type and of the transport (virtio v1.2 §2, §3):
// feature negotiation, the device status state machine, device-specific configuration space with a
// generation counter, virtqueues, interrupt status, reset, and giving up (NEEDS_RESET).
//
// A device type derives from DeviceBase and implements on_queue_notify() and the configuration hooks.
// A transport (MmioTransport) turns register accesses into the public calls below.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/addr.h"
#include "virtio/feature_bits.h"
#include "virtio/guest_memory.h"
#include "virtio/virtqueue.h"

namespace viommu::virtio {

// The per-queue registers a driver programs, and the ring once it is enabled.
struct QueueSlot {
    uint16_t max_size = 0; // 0: the queue does not exist
    uint32_t size = 0;     // QueueNum; defaults to max_size after reset, as in QEMU
    GuestAddr desc;
    GuestAddr driver;
    GuestAddr device;
    bool ready = false;
    std::optional<Virtqueue> ring; // present while ready: split, or packed with VIRTIO_F_RING_PACKED
};

// What a snapshot keeps of a queue and of a device's transport-independent state.
struct QueueState {
    uint32_t size = 0;
    GuestAddr desc, driver, device;
    bool ready = false;
    QueueIndices indices;
};

struct DeviceState {
    FeatureBits driver_features = 0;
    uint8_t status = 0;
    bool broken = false;
    std::string failure;
    uint32_t config_generation = 0;
    uint32_t isr = 0;
    std::vector<QueueState> queues;
};

// Interrupt status bits (virtio-mmio InterruptStatus, the PCI ISR).
inline constexpr uint32_t kIsrQueue = 1;
inline constexpr uint32_t kIsrConfig = 2;

class DeviceBase {
public:
    // Guest errors a device logs before it stops logging them (log_guest_error()).
    static constexpr unsigned kGuestErrorsLogged = 10;

    DeviceBase(const DeviceBase&) = delete;
    DeviceBase& operator=(const DeviceBase&) = delete;
    virtual ~DeviceBase() = default;

    const char* name() const { return name_; }
    uint32_t device_id() const { return device_id_; }
    GuestMemory& memory() { return *mem_; }

    // --- Feature negotiation (§2.2, §3.1.1) ---
    FeatureBits device_features() const { return device_features_; }
    FeatureBits driver_features() const { return driver_features_; }
    // Ignored (false) once FEATURES_OK is set: the negotiated set cannot change under the device.
    bool set_driver_features(FeatureBits features);
    bool negotiated(unsigned bit) const { return (driver_features_ & feature(bit)) && features_ok(); }

    // --- Device status (§2.1) ---
    uint8_t status() const { return status_; }
    // Writing 0 resets the device. FEATURES_OK does not stick when the driver accepted a feature the
    // device did not offer, or did not accept VIRTIO_F_VERSION_1 (this is a modern-only device).
    void set_status(uint8_t status);
    bool features_ok() const { return status_ & status::kFeaturesOk; }
    bool driver_ok() const { return status_ & status::kDriverOk; }
    bool broken() const { return broken_; }
    // Resets everything to the power-on state (§2.4), then calls on_reset().
    void reset();

    // --- Device-specific configuration (§2.5) ---
    uint32_t config_generation() const { return config_generation_; }
    virtual uint32_t config_size() const { return 0; }
    // 1, 2, 4 or 8 bytes, little-endian. Outside the configuration space reads return all ones and
    // writes are ignored, as QEMU does.
    uint64_t config_read(uint32_t offset, unsigned size) const;
    void config_write(uint32_t offset, unsigned size, uint64_t value);

    // --- Virtqueues (§2.7 split, §2.8 packed) ---
    unsigned num_queues() const { return static_cast<unsigned>(queues_.size()); }
    // Selected queue's registers; nullptr when the queue does not exist.
    QueueSlot* queue_slot(unsigned q) { return q < queues_.size() ? &queues_[q] : nullptr; }
    const QueueSlot* queue_slot(unsigned q) const { return q < queues_.size() ? &queues_[q] : nullptr; }
    // Enables (building the ring; a bad layout makes the device fail) or disables a queue.
    void set_queue_ready(unsigned q, bool ready);
    // VIRTIO_F_RING_RESET: the queue returns to its reset state (§2.6.1).
    void reset_queue(unsigned q);
    // The driver notified queue q (an available buffer notification): processes it if the device is
    // live. Transports call this on the device's executor.
    void queue_notify(unsigned q);

    // --- Interrupts ---
    uint32_t interrupt_status() const { return isr_; }
    void ack_interrupt(uint32_t bits);
    // The transport's hook: called whenever interrupt_status() changes.
    void set_interrupt_listener(std::function<void(uint32_t isr)> listener) { listener_ = std::move(listener); }
    // What raised an interrupt, after interrupt_status() took it: the queue whose used buffers the
    // driver wants to hear of, or nullopt for a configuration change. A transport with one interrupt
    // per event (virtio-pci's MSI-X vectors, §4.1.5.1.2) needs more than the ISR bits.
    void set_interrupt_source_listener(std::function<void(std::optional<unsigned> queue)> listener)
    {
        source_listener_ = std::move(listener);
    }

    // Gives up on the driver: marks the device broken, sets NEEDS_RESET and notifies a configuration
    // change (§2.1.2), as QEMU's virtio_error() does. Only a reset brings the device back.
    void fail(std::string_view why);
    const std::string& failure_reason() const { return failure_; }

    // A guest error worth telling the user about, as QEMU's qemu_log_mask(LOG_GUEST_ERROR): a warning on
    // the diagnostics log, but only the first kGuestErrorsLogged of a device's lifetime, so that a guest
    // cannot flood the log (the trace points still show every one). Transports log theirs here too.
    void log_guest_error(std::string_view message);

    // --- Snapshots ---
    DeviceState save_state() const;
    // All or nothing: the state must fit this device (same queues, features it offers) and every ready
    // queue's ring must be valid in this device's memory; otherwise nothing changes.
    [[nodiscard]] Expected<void, std::string> restore_state(const DeviceState& state);

protected:
    DeviceBase(const char* name, uint32_t device_id, GuestMemory& mem, FeatureBits features,
               std::vector<uint16_t> queue_max_sizes);

    // Called when the driver notifies q and the device may use it (DRIVER_OK, not broken, queue ready).
    virtual void on_queue_notify(unsigned q) = 0;
    virtual void on_reset() {}
    // Every status the driver writes, before the device acts on it (a 0 then resets it).
    virtual void on_status_write(uint8_t /*requested*/) {}
    // A device-specific reason to refuse FEATURES_OK; nullopt to accept.
    virtual std::optional<std::string> validate_features(FeatureBits) const { return std::nullopt; }
    virtual void on_features_ok() {}
    virtual void on_driver_ok() {}
    virtual void read_config(uint32_t offset, std::span<uint8_t> out) const;
    virtual void write_config(uint32_t offset, std::span<const uint8_t> in);

    // The ring of queue q while the device may use it, else nullptr.
    Virtqueue* active_ring(unsigned q);
    // Pops the next chain of queue q into slot (built in place); false when there is none or the ring
    // is malformed, in which case the device has failed. Typical use:
    //   std::optional<DescriptorChain> chain;
    //   while (pop(q, chain)) { ...; push(q, std::move(*chain), written); }
    bool pop(unsigned q, std::optional<DescriptorChain>& slot);
    void push(unsigned q, DescriptorChain&& chain, uint32_t written);
    // Raises the used-buffer interrupt if the driver wants one for what was pushed since the last call.
    void notify_used(unsigned q);
    // The device changed its configuration space: bump the generation and tell the driver.
    void config_changed();
    // Sets interrupt status bits; `queue` says which queue raised kIsrQueue (nullopt: a configuration
    // change).
    void raise_interrupt(uint32_t bits, std::optional<unsigned> queue = std::nullopt);

    // Offered features may be changed by a device before the driver reads them (device properties).
    void set_device_features(FeatureBits features) { device_features_ = features; }

private:
    const char* name_;
    uint32_t device_id_;
    GuestMemory* mem_;
    FeatureBits device_features_;
    FeatureBits driver_features_ = 0;
    uint8_t status_ = 0;
    bool broken_ = false;
    std::string failure_;
    unsigned guest_errors_ = 0;
    uint32_t config_generation_ = 0;
    uint32_t isr_ = 0;
    std::vector<QueueSlot> queues_;
    std::function<void(uint32_t)> listener_;
    std::function<void(std::optional<unsigned>)> source_listener_;
};

} // namespace viommu::virtio
