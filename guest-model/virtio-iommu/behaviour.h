// What differs between the releases the virtio-iommu driver models (drivers/iommu/virtio-iommu.c),
// resolved once from the kernel profile: each switch is a behaviour of the facts table.
#pragma once

#include "guest-model/profiles/profile.h"

namespace viommu::guest::virtio_iommu {

struct ViommuBehaviour {
    bool bypass_config = true;       // VIRTIO_IOMMU_F_BYPASS_CONFIG and identity domains (v5.17)
    bool map_batched = true;         // MAP through viommu_add_req() + iotlb_sync_map (else synchronous)
    bool detach_on_release = true;   // DETACH sent from release_device
    bool cap_cache_coherency = true; // capable(IOMMU_CAP_CACHE_COHERENCY): the seed's first patch
    bool cap_deferred_flush = true;  // capable(IOMMU_CAP_DEFERRED_FLUSH)
    bool instance_lookup_works = true; // false from 6.15 to 6.16.3: probe_device() never finds its instance
    bool identity_domain_static = true; // one static bypass domain, its ID reserved at probe (v6.16)
    // viommu's experimental non-coherent extension (x_noncoherent.h), in no Linux release: the model's
    // driver accepts the bit when a device offers it, and capable(IOMMU_CAP_CACHE_COHERENCY) then
    // answers per endpoint. No kernel profile sets it; a device without the option never offers it.
    bool x_noncoherent = true;

    static ViommuBehaviour from(const profiles::Profile& profile);
    bool operator==(const ViommuBehaviour&) const = default;
};

} // namespace viommu::guest::virtio_iommu
