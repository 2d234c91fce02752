// What one boot of a guest showed, in the terms a real guest can be observed in: per PCI function its
// driver, IOMMU group, the group's default domain type and reserved regions, and its VFIO outcome; the
// virtio-iommu's negotiated features; per endpoint the requests the device traced. A real boot
// (real_boot.h) and the model (model_observation.h) each give one, and diff.h compares the two.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace viommu::system::truth {

struct VfioOutcome {
    bool admitted = false;
    std::string stage; // the first step that failed, named as viommu-boot names it ("VFIO_SET_IOMMU")
    int error = 0;     // its positive errno; 0 when admitted
};

struct DeviceObservation {
    std::string bdf;    // "0000:03:00.0"
    std::string driver; // "virtio-pci/virtio_net" for a virtio function, as viommu-boot writes it
    std::optional<int> group;
    std::string domain; // /sys/kernel/iommu_groups/N/type ("DMA-FQ", "identity", ...), "" without a group
    std::vector<std::string> reserved_regions;
    std::optional<VfioOutcome> vfio;
};

// The requests the device handled for one endpoint ID, as QEMU 7.2's trace shows them.
struct EndpointRequests {
    uint32_t endpoint = 0;
    unsigned probes = 0;
    unsigned attaches = 0;
    unsigned detaches = 0;
    unsigned maps = 0;   // MAPs in the domain the endpoint was attached to at the time
    unsigned unmaps = 0;
    unsigned faults = 0; // fault events the device reported for it
};

struct Observation {
    std::string guest;
    std::string kernel;         // the profile's name
    std::string kernel_version; // what the kernel says it is ("6.12.117+deb12-amd64", "6.12.117")
    bool iommu_driver_ready = false; // a virtio-iommu driver bound the device
    std::string iommu_device;        // "virtio0"
    std::string iommu_bdf;
    uint64_t features = 0;           // negotiated
    std::vector<DeviceObservation> devices;  // in BDF order
    std::vector<EndpointRequests> endpoints; // in endpoint order
    std::vector<uint32_t> attach_order;      // endpoints in the order of their first ATTACH
};

nlohmann::ordered_json to_json(const Observation& o);
// Reads what to_json() wrote (a recording's report.json); a message naming the field that is wrong.
Expected<Observation, std::string> observation_from_json(const nlohmann::json& j);

} // namespace viommu::system::truth
