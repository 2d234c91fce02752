#include "virtio/pci_common_cfg.h"

#include <fmt/format.h>

#include "virtio/wire/pci_regs.h"

namespace viommu::virtio {

using namespace pci;

namespace {

// The natural width of the field that starts at `offset`, 0 where none starts (§4.1.4.3). The 64-bit
// queue addresses are also two 32-bit fields (§4.1.3.1).
unsigned field_width(uint32_t offset)
{
    switch (offset) {
    case kDeviceFeatureSelect:
    case kDeviceFeature:
    case kDriverFeatureSelect:
    case kDriverFeature:
    case kQueueDesc:
    case kQueueDesc + 4:
    case kQueueDriver:
    case kQueueDriver + 4:
    case kQueueDevice:
    case kQueueDevice + 4: return 4;
    case kDeviceStatus:
    case kConfigGeneration: return 1;
    case kMsixConfig:
    case kNumQueues:
    case kQueueSelect:
    case kQueueSize:
    case kQueueMsixVector:
    case kQueueEnable:
    case kQueueNotifyOff:
    case kQueueNotifyData:
    case kQueueReset: return 2;
    default: return 0;
    }
}

bool is_queue_address(uint32_t offset) { return offset >= kQueueDesc && offset < kQueueNotifyData; }

// The queue area whose address `offset` holds half of (QueueSlot or const QueueSlot).
template <class Slot>
auto& queue_address(Slot& slot, uint32_t offset)
{
    return offset < kQueueDriver ? slot.desc : offset < kQueueDevice ? slot.driver : slot.device;
}

} // namespace

PciCommonConfig::PciCommonConfig(DeviceBase& device, unsigned msix_vectors, GuestError guest_error)
    : device_(device), msix_vectors_(msix_vectors), guest_error_(std::move(guest_error)), config_vector_(kNoVector),
      queue_vectors_(device.num_queues(), kNoVector)
{
}

void PciCommonConfig::reset()
{
    queue_sel_ = 0;
    config_vector_ = kNoVector;
    std::fill(queue_vectors_.begin(), queue_vectors_.end(), kNoVector);
}

uint16_t PciCommonConfig::vector(std::optional<unsigned> queue) const
{
    if (!queue)
        return config_vector_;
    return *queue < queue_vectors_.size() ? queue_vectors_[*queue] : kNoVector;
}

uint64_t PciCommonConfig::read(uint32_t offset, unsigned size)
{
    if (size == 8 && is_queue_address(offset) && offset % 8 == 0)
        return read_field(offset) | (uint64_t{read_field(offset + 4)} << 32);
    if (field_width(offset) != size) {
        guest_error_(offset, "common configuration read that is not a whole field at its natural width");
        return 0;
    }
    return read_field(offset);
}

void PciCommonConfig::write(uint32_t offset, unsigned size, uint64_t value)
{
    if (size == 8 && is_queue_address(offset) && offset % 8 == 0) {
        write_field(offset, static_cast<uint32_t>(value));
        write_field(offset + 4, static_cast<uint32_t>(value >> 32));
        return;
    }
    if (field_width(offset) != size)
        return guest_error_(offset, "common configuration write that is not a whole field at its natural width");
    write_field(offset, static_cast<uint32_t>(value));
}

uint32_t PciCommonConfig::read_field(uint32_t offset)
{
    const QueueSlot* slot = device_.queue_slot(queue_sel_);
    const bool queue_exists = slot && slot->max_size != 0;
    switch (offset) {
    case kDeviceFeatureSelect: return device_feature_sel_;
    case kDeviceFeature: return feature_word(device_.device_features(), device_feature_sel_);
    case kDriverFeatureSelect: return driver_feature_sel_;
    case kDriverFeature: return feature_word(device_.driver_features(), driver_feature_sel_);
    case kMsixConfig: return config_vector_;
    case kNumQueues: {
        // QEMU's virtio_pci_common_read(): one past the last queue that exists.
        unsigned n = 0;
        for (unsigned q = 0; q < device_.num_queues(); ++q)
            if (device_.queue_slot(q)->max_size)
                n = q + 1;
        return n;
    }
    case kDeviceStatus: return device_.status();
    case kConfigGeneration: return device_.config_generation() & 0xff;
    case kQueueSelect: return queue_sel_;
    // §4.1.4.3.1: "The device MUST present a 0 in queue_size if the virtqueue corresponding to the
    // current queue_select is unavailable."
    case kQueueSize: return queue_exists ? slot->size : 0;
    case kQueueMsixVector: return queue_exists ? queue_vectors_[queue_sel_] : kNoVector;
    case kQueueEnable: return queue_exists && slot->ready ? 1 : 0;
    // QEMU gives each queue its own notify address: queue_notify_off is the queue's index.
    case kQueueNotifyOff: return queue_sel_;
    // VIRTIO_F_NOTIF_CONFIG_DATA is not offered, so the field holds nothing (§4.1.4.3).
    case kQueueNotifyData: return 0;
    // A queue reset completes within the write, so the driver polling for its end reads 0 (§4.1.4.3.2).
    case kQueueReset: return 0;
    default: break;
    }
    if (!queue_exists)
        return 0;
    const uint64_t address = queue_address(*slot, offset).value();
    return static_cast<uint32_t>(offset % 8 ? address >> 32 : address);
}

bool PciCommonConfig::writable_queue(uint32_t offset)
{
    QueueSlot* slot = device_.queue_slot(queue_sel_);
    if (!slot || slot->max_size == 0) {
        guest_error_(offset, "write to a queue register of a queue that does not exist");
        return false;
    }
    // §4.1.4.3.2: the driver configures a queue before enabling it; the layout of a live queue cannot
    // change under the device (QEMU stores such a write for the next enable; we refuse it).
    if (slot->ready) {
        guest_error_(offset, "write to a queue register while the queue is enabled");
        return false;
    }
    return true;
}

void PciCommonConfig::write_field(uint32_t offset, uint32_t value)
{
    // QEMU's virtio_pci_common_write(): a vector the MSI-X table does not have reads back as
    // VIRTIO_MSI_NO_VECTOR, so that the driver can tell the mapping failed (§4.1.5.1.2).
    const auto vector_or_none = [this](uint32_t v) { return v < msix_vectors_ ? static_cast<uint16_t>(v) : kNoVector; };
    switch (offset) {
    case kDeviceFeatureSelect: device_feature_sel_ = value; return;
    case kDriverFeatureSelect: driver_feature_sel_ = value; return;
    case kDriverFeature: {
        if (driver_feature_sel_ > 1)
            return guest_error_(offset, "driver_feature_select beyond bit 63");
        if (!device_.set_driver_features(with_feature_word(device_.driver_features(), driver_feature_sel_, value)))
            guest_error_(offset, "driver_feature write after FEATURES_OK");
        return;
    }
    case kMsixConfig: config_vector_ = vector_or_none(value); return;
    case kDeviceStatus:
        device_.set_status(static_cast<uint8_t>(value));
        // §4.1.4.3.1: "The device MUST reset when 0 is written to device_status, and present a 0 in
        // device_status once that is done": the reset is done within this write.
        if (device_.status() == 0)
            reset();
        return;
    case kQueueSelect:
        if (value >= kQueueSelectLimit)
            return guest_error_(offset, "queue_select beyond the queues a virtio-pci function can have");
        queue_sel_ = static_cast<uint16_t>(value);
        return;
    case kQueueMsixVector:
        if (queue_sel_ >= queue_vectors_.size() || device_.queue_slot(queue_sel_)->max_size == 0)
            return guest_error_(offset, "queue_msix_vector of a queue that does not exist");
        queue_vectors_[queue_sel_] = vector_or_none(value);
        return;
    case kQueueSize:
        if (!writable_queue(offset))
            return;
        // QEMU's virtio_queue_set_num() keeps a size between 1 and the maximum; a size that is not a
        // power of two is refused when the queue is enabled if the ring is split (§2.7: the device then
        // needs a reset); a packed ring takes any size (§2.8.10.1).
        if (value == 0 || value > device_.queue_slot(queue_sel_)->max_size)
            return guest_error_(offset, "queue_size of 0 or above the queue's maximum");
        device_.queue_slot(queue_sel_)->size = value;
        return;
    case kQueueEnable:
        if (!device_.queue_slot(queue_sel_) || device_.queue_slot(queue_sel_)->max_size == 0)
            return guest_error_(offset, "queue_enable of a queue that does not exist");
        // §4.1.4.3.2: "The driver MUST NOT write a 0 to queue_enable." QEMU answers with virtio_error(),
        // which needs a reset; so do we. Enabling builds the ring; a bad layout fails the device.
        if (value != 1)
            return device_.fail(fmt::format("queue {}: wrong value {:#x} for queue_enable", queue_sel_, value));
        device_.set_queue_ready(queue_sel_, true);
        return;
    case kQueueReset:
        if (!device_.negotiated(kFRingReset))
            return guest_error_(offset, "queue_reset without VIRTIO_F_RING_RESET");
        if (!device_.queue_slot(queue_sel_) || device_.queue_slot(queue_sel_)->max_size == 0)
            return guest_error_(offset, "queue_reset of a queue that does not exist");
        // §2.6.1: the queue returns to its reset state; QEMU's virtio_queue_reset() unmaps its vector.
        if (value == 1) {
            device_.reset_queue(queue_sel_);
            queue_vectors_[queue_sel_] = kNoVector;
        }
        return;
    default: break;
    }
    if (!is_queue_address(offset))
        return guest_error_(offset, "write to a read-only field");
    if (!writable_queue(offset))
        return;
    GuestAddr& a = queue_address(*device_.queue_slot(queue_sel_), offset);
    a = offset % 8 ? GuestAddr((a.value() & 0xffffffff) | (uint64_t{value} << 32))
                   : GuestAddr((a.value() & ~uint64_t{0xffffffff}) | value);
}

} // namespace viommu::virtio
