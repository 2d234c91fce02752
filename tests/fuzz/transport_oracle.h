// What fuzz-mmio and fuzz-pci check of a device whatever its transport: the RAM both give it, and the
// rules of the device status (virtio v1.2 §2.1, §2.2.1, §3.1.1, §6.1) and the configuration generation
// (§2.5.1).
#pragma once

#include <cstdint>

#include "virtio/device_base.h"
#include "virtio/guest_memory.h"

namespace viommu::fuzz {

// kMmioRamSize bytes at kMmioRamBase (mmio_scenario.h).
virtio::GuestMemory make_transport_ram();

class DeviceRules {
public:
    // A finding when FEATURES_OK stands without VERSION_1 or with features the device did not offer,
    // DRIVER_OK without FEATURES_OK has not made the device give up, or the generation went back.
    void check(const virtio::DeviceBase& device);

private:
    uint32_t generation_ = 0;
};

} // namespace viommu::fuzz
