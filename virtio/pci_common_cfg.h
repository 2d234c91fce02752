// The common configuration structure of a virtio-pci function (virtio v1.2 §4.1.4.3): feature
// selectors, the device status, the MSI-X vectors of the configuration change and of each queue, and
// the selected queue's registers, in front of a DeviceBase.
//
// Every field is accessed at its natural width (§4.1.3.1: "The driver MUST access each field using the
// 'natural' width for that field", 64-bit fields also as two 32-bit halves). Any other access, a write
// to a read-only field, or a queue register of a queue that does not exist reads 0 and changes nothing,
// and is a guest error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "virtio/device_base.h"

namespace viommu::virtio {

class PciCommonConfig {
public:
    using GuestError = std::function<void(uint32_t offset, const char* what)>;
    // QEMU's VIRTIO_QUEUE_MAX: queue_select keeps values below it (virtio_pci_common_write()).
    static constexpr uint32_t kQueueSelectLimit = 1024;

    // msix_vectors: the function's MSI-X table size, 0 without MSI-X.
    PciCommonConfig(DeviceBase& device, unsigned msix_vectors, GuestError guest_error);

    uint64_t read(uint32_t offset, unsigned size);
    void write(uint32_t offset, unsigned size, uint64_t value);

    // The MSI-X vector of an interrupt source (a queue, or nullopt for configuration changes); 0xffff
    // (VIRTIO_MSI_NO_VECTOR) when none is mapped.
    uint16_t vector(std::optional<unsigned> queue) const;
    uint16_t queue_select() const { return queue_sel_; }

    // After a device reset: selectors and vectors return to their reset values (§4.1.5.1.2: vectors
    // read VIRTIO_MSI_NO_VECTOR; QEMU's virtio_reset()).
    void reset();

private:
    uint32_t read_field(uint32_t offset);
    void write_field(uint32_t offset, uint32_t value);
    // A write to one of the selected queue's layout registers, if the queue exists and is not enabled.
    bool writable_queue(uint32_t offset);

    DeviceBase& device_;
    unsigned msix_vectors_;
    GuestError guest_error_;
    uint32_t device_feature_sel_ = 0;
    uint32_t driver_feature_sel_ = 0;
    uint16_t queue_sel_ = 0;
    uint16_t config_vector_;
    std::vector<uint16_t> queue_vectors_;
};

} // namespace viommu::virtio
