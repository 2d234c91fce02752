// The virtio-iommu's QEMU properties a guest description sets (IommuDesc: boot-bypass, aw-bits, granule)
// onto the device's configuration. Internal to system/boot.
#pragma once

#include "hw/virtio-iommu/config.h"
#include "system/boot/guest_spec.h"

namespace viommu::system::boot {

// Sets config's boot_bypass, input range, page_size_mask, packed and x_noncoherent as the properties say;
// leaves the rest.
void apply_iommu_properties(const IommuDesc& iommu, hw::virtio_iommu::IommuConfig& config);

} // namespace viommu::system::boot
