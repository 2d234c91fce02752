// The virtio devices the guest knows, one row each: what virtio-pci registers for a function of that
// role on the virtio bus (its device ID), the guest driver whose ID table matches it, and how the
// device DMAs. Adding a virtio device the guest drives is one row here (and its Role).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "hw/endpoints/dma_engine.h"
#include "system/boot/guest_spec.h"

namespace viommu::system::boot {

struct VirtioRole {
    Role role;
    uint32_t device_id;      // VIRTIO_ID_*, what virtio_dev_match() compares; 0: none the guest drives
    std::string_view driver; // the guest's virtio driver ("" none modelled)
    // What the device's DMA engine does once its driver is bound (a NIC fills receive buffers, a disk
    // reads and writes them); nullopt: the model makes it do no DMA.
    std::optional<hw::endpoints::DmaEngine::Kind> dma;
};

// The row of a virtio role; nullptr for a function that is not a virtio device.
const VirtioRole* virtio_role(Role role);
// Every row, in the order udev loads their drivers' modules.
std::span<const VirtioRole> virtio_roles();

} // namespace viommu::system::boot
