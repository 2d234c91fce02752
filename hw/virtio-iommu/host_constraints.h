// A host IOMMU's constraints on one assigned endpoint, and how they reach the device's configuration,
// as QEMU's virtio-iommu learns them from VFIO when a vfio-pci device is plugged behind it:
//   - the host IOMMU's page sizes: QEMU 7.2's virtio_iommu_set_page_size_mask() (the IOMMUMemoryRegion's
//     iommu_set_page_size_mask, called by VFIO with the container's pgsizes) narrows page_size_mask
//     until the machine is ready, and afterwards only checks the new mask against the frozen granule
//     (94df5b2180, "virtio-iommu: Fix 64kB host page size VFIO device assignment", moved the freeze to
//     machine-init-done; behaviour.h FrozenGranuleCheck says which check a release makes);
//   - the host's reserved regions and address width: not in QEMU 7.2. QEMU 9.0 takes VFIO's usable IOVA
//     ranges (iommu_set_iova_ranges) and 9.1 takes them from the HostIOMMUDevice ("virtio-iommu:
//     Implement set|unset]_iommu_device() callbacks", "virtio-iommu: Compute host reserved regions"):
//     their complement, every piece tagged RESERVED, becomes the endpoint's RESV_MEM, cut around the
//     regions the machine's reserved-regions property sets, which win. The address width is not a
//     property of its own there: the host's usable ranges end at 2^aw - 1, so what lies above is one
//     more host reserved region; QEMU never narrows input_range from the host (only its own aw-bits
//     property, 9.0, sets it).
//   - whether the endpoint's DMA is cache-coherent: viommu's experimental extension, not from any
//     published spec (docs/noncoherent-extension.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "hw/virtio-iommu/config.h"

namespace viommu::hw::virtio_iommu {

struct HostReservedRange {
    IovaRange range;
    ResvMemSubtype type = ResvMemSubtype::kReserved;
    bool operator==(const HostReservedRange&) const = default;
};

struct HostIommuConstraints {
    // The host IOMMU's page sizes (VFIO's iova_pgsizes); 0: not known, the device's mask stands.
    uint64_t page_size_mask = 0;
    // The host IOMMU's input address width: IOVAs from 2^aw_bits up are not usable on the host.
    std::optional<unsigned> aw_bits;
    // Ranges the host cannot map for the device (its MSI window, its IOVA holes), none overlapping.
    std::vector<HostReservedRange> reserved;
    // Experimental (docs/noncoherent-extension.md): whether the endpoint's DMA snoops the CPU caches.
    bool coherent = true;
    bool operator==(const HostIommuConstraints&) const = default;
};

// Applies an endpoint's host constraints to config as the release of config.behaviour does: before the
// granule is frozen the page-size mask narrows, afterwards it is only checked (QEMU's hot-plug). Returns
// what the device noted without refusing (QEMU's warnings, constraints the release does not take), or
// QEMU's reason for refusing the device; config is unchanged then. An endpoint config does not know yet
// (a device plugged at a new requester ID) is added.
[[nodiscard]] Expected<std::vector<std::string>, std::string>
apply_host_constraints(IommuConfig& config, EndpointId endpoint, const HostIommuConstraints& host, bool granule_frozen);

// The host's reserved ranges as the device takes them: the given ones, and [2^aw_bits, 2^64 - 1].
std::vector<HostReservedRange> host_reserved_ranges(const HostIommuConstraints& host);

} // namespace viommu::hw::virtio_iommu
