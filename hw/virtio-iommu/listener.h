// Host-side listeners of an endpoint's mappings: what QEMU's IOMMU notifiers give VFIO, which must
// mirror every guest mapping of an assigned device into the host IOMMU.
#pragma once

#include <cstdint>

#include "hw/virtio-iommu/ids.h"
#include "hw/virtio-iommu/mapping_store.h"

namespace viommu::hw::virtio_iommu {

class MappingListener {
public:
    virtual ~MappingListener() = default;
    // The endpoint can now reach `m` (a MAP in its domain, its ATTACH to a domain holding `m`, or the
    // replay when the listener registers).
    virtual void on_map(EndpointId endpoint, const Mapping& m) = 0;
    // The endpoint can no longer reach `m` (an UNMAP, its DETACH, or the device's reset).
    virtual void on_unmap(EndpointId endpoint, const Mapping& m) = 0;
};

} // namespace viommu::hw::virtio_iommu
