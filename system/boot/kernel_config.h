// What a guest kernel can do with a virtio-iommu on a given architecture, from its profile: whether
// the driver exists and is built (and as a module or not), whether the firmware describes the IOMMU
// topology to it, the default domain policy, and what VFIO has. A configuration value the profile
// does not give is what the mainline Kconfig defaults to for that release; a value the release cannot
// have (CONFIG_VIRTIO_IOMMU=m on x86 before v5.14) is overridden with a warning.
#pragma once

#include <string>
#include <vector>

#include "system/boot/guest_spec.h"
#include "guest-model/profiles/profile.h"
#include "guest-model/vfio/user_path.h"

namespace viommu::system::boot {

enum class Tristate { kNo, kModule, kBuiltin };

struct KernelConfig {
    Tristate virtio_iommu = Tristate::kNo; // CONFIG_VIRTIO_IOMMU, after the facts allow it
    Tristate virtio_pci = Tristate::kBuiltin;
    // The firmware tells the kernel which devices the virtio-iommu translates: ACPI VIOT (3cf485540e7b,
    // v5.14, CONFIG_ACPI_VIOT) on x86 and on arm64 under UEFI, else the device tree's iommu-map on arm64
    // (v5.3).
    bool firmware_describes = false;
    std::string why_no_iommu; // when the guest cannot use the virtio-iommu, why
    bool passthrough = false; // CONFIG_IOMMU_DEFAULT_PASSTHROUGH, or iommu.passthrough=
    bool passthrough_cmdline = false;
    bool strict = false;      // CONFIG_IOMMU_DEFAULT_DMA_STRICT, or iommu.strict=
    bool strict_cmdline = false;
    bool vfio = true;         // CONFIG_VFIO (and vfio-pci)
    bool vfio_noiommu = false; // CONFIG_VFIO_NOIOMMU
    // The device nodes VFIO's user can open: CONFIG_VFIO_CONTAINER, CONFIG_IOMMUFD,
    // CONFIG_IOMMUFD_VFIO_CONTAINER, CONFIG_VFIO_DEVICE_CDEV, where the release has them.
    guest::vfio::UserPathConfig vfio_paths;
    std::vector<std::string> warnings;
};

// tables: what describes the hardware to the guest (ACPI for x86; arm64 has either).
KernelConfig resolve_kernel_config(const guest::profiles::Profile& profile, Arch arch, FirmwareTables tables,
                                   const KernelCmdline& cmdline);
// The tables an arch's guest gets when nothing says otherwise: ACPI on x86, the device tree on arm64.
KernelConfig resolve_kernel_config(const guest::profiles::Profile& profile, Arch arch, const KernelCmdline& cmdline);

} // namespace viommu::system::boot
