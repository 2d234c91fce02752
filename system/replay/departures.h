// How a difference between our device and a QEMU peer is explained: each way the peer's release departs
// from the behaviour our device was given (hw/virtio-iommu/behaviour.h), applied alone, named by the
// docs/conformance.md row it belongs to. A step where one of them gives the peer's answer is explained by
// that row (system/replay/compare.h).
#pragma once

#include <string_view>
#include <vector>

#include "hw/virtio-iommu/behaviour.h"

namespace viommu::system::replay {

struct Departure {
    std::string_view row; // docs/conformance.md's clause and rule, with QEMU's side
    hw::virtio_iommu::DeviceBehaviour behaviour; // ours with this one departure
};

// Every member in which `peer` differs from `ours`, in the order of behaviour.h, each applied alone.
std::vector<Departure> departures(const hw::virtio_iommu::DeviceBehaviour& ours,
                                  const hw::virtio_iommu::DeviceBehaviour& peer);

// `ours` with every departure of `peer` applied: what the table above knows of `peer`.
hw::virtio_iommu::DeviceBehaviour with_all_departures(const hw::virtio_iommu::DeviceBehaviour& ours,
                                                      const hw::virtio_iommu::DeviceBehaviour& peer);

} // namespace viommu::system::replay
