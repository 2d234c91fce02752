// A scenario's actions against the real device: a guest machine with the virtio-iommu behind
// virtio-mmio and the bare request client (guest-model/virtio-iommu/request_client.h) driving it through real
// rings in guest memory, as viommu-replay does; endpoint DMA goes through VirtioIommu::translate() and
// its fault reports come back through the event queue.
#pragma once

#include <memory>

#include "system/machine/machine.h"
#include "guest-model/virtio-iommu/request_client.h"
#include "hw/virtio-iommu/device.h"
#include "tests/fuzz/observation.h"
#include "tests/fuzz/scenario.h"

namespace viommu::fuzz {

// The device properties a scenario chose, as the device takes them.
hw::virtio_iommu::IommuConfig iommu_config(const DeviceChoice& choice);

// A device of a scenario's properties in a machine like DeviceRun's (its RAM, so that rings a driven
// device set up fit), never driven: what a snapshot is restored into.
struct FreshDevice {
    explicit FreshDevice(const DeviceChoice& choice);

    system::machine::Machine machine;
    hw::virtio_iommu::VirtioIommu& device;
};

class DeviceRun {
public:
    // Brings the device up as the request client does; a device that cannot be brought up is a finding,
    // reported by abort().
    explicit DeviceRun(const DeviceChoice& choice);

    Observation apply(const Action& action);
    hw::virtio_iommu::VirtioIommu& device() { return device_; }

private:
    void bring_up();

    DeviceChoice choice_;
    system::machine::Machine machine_;
    hw::virtio_iommu::VirtioIommu& device_;
    guest::virtio_iommu::IommuRequestClient client_;
};

} // namespace viommu::fuzz
