// What differs between the releases for the parts of the guest kernel the boot itself plays (the PCI
// bus type, iommu_device_register()'s probe of the IOMMU's devices, the diagnosis of a missing group),
// resolved once from the kernel profile.
#pragma once

#include "guest-model/profiles/profile.h"

namespace viommu::system::boot {

struct BootBehaviour {
    // DMA ownership (1ea2a07a532b, v5.19): a driver binding a device uses its group's default domain,
    // except drivers that manage their DMA themselves.
    bool dma_ownership = false;
    // iommu_device_register() probes every device the firmware puts behind the instance, driver or
    // not (bcb81ac6ae3c, v6.15); before, groups are made when a driver binds.
    bool probe_at_register = false;
    // The virtio-iommu driver finds its instance while it registers (72b6f7cd89ce, v6.17, 6.16.4).
    bool instance_lookup_robust = false;

    static BootBehaviour from(const guest::profiles::Profile& profile);
};

} // namespace viommu::system::boot
