#include "system/boot/kernel_config.h"

#include <fmt/format.h>

#include "guest-model/profiles/fact_keys.h"

namespace viommu::system::boot {

namespace {

Tristate tristate(const guest::profiles::Profile& profile, std::string_view key, Tristate fallback)
{
    const auto v = profile.config(key);
    if (!v)
        return fallback;
    if (*v == "y")
        return Tristate::kBuiltin;
    if (*v == "m")
        return Tristate::kModule;
    return Tristate::kNo;
}

// A bool the profile sets that its release cannot have is modelled as not set, with a warning.
bool config_where(const guest::profiles::Profile& profile, std::string_view key, const guest::profiles::Decision& exists,
                  std::vector<std::string>& warnings)
{
    if (!profile.config_enabled(key))
        return false;
    if (exists.present)
        return true;
    warnings.push_back(fmt::format("{} sets {}, but Linux {} does not have it ({}); modelled as not set", profile.name(),
                                   key, profile.version().str(), exists.why));
    return false;
}

// The device nodes of VFIO's user paths. Before v6.2 (iommufd, and e5a9ec7e096a making the container
// optional, came together) the container is always built and none of the other symbols exist; from
// v6.2 CONFIG_VFIO_CONTAINER defaults to y. The cdev and iommufd's container depend on CONFIG_IOMMUFD.
guest::vfio::UserPathConfig vfio_paths(const guest::profiles::Profile& profile, std::vector<std::string>& warnings)
{
    namespace key = guest::profiles::fact;
    guest::vfio::UserPathConfig p;
    const guest::profiles::Decision iommufd = profile.has(key::vfio::kIommufd);
    p.iommufd = tristate(profile, "CONFIG_IOMMUFD", Tristate::kNo) != Tristate::kNo;
    if (p.iommufd && !iommufd.present) {
        warnings.push_back(fmt::format("{} sets CONFIG_IOMMUFD, but Linux {} has no iommufd ({}); modelled as not set",
                                       profile.name(), profile.version().str(), iommufd.why));
        p.iommufd = false;
    }
    p.vfio_container = profile.config("CONFIG_VFIO_CONTAINER").value_or("y") == "y";
    if (!p.vfio_container && !iommufd.present) {
        warnings.push_back(fmt::format("{} leaves CONFIG_VFIO_CONTAINER unset, but Linux {} always builds VFIO's "
                                       "container (optional from e5a9ec7e096a, v6.2); modelled as built",
                                       profile.name(), profile.version().str()));
        p.vfio_container = true;
    }
    p.iommufd_vfio_container = p.iommufd && config_where(profile, "CONFIG_IOMMUFD_VFIO_CONTAINER", iommufd, warnings);
    p.device_cdev = p.iommufd && config_where(profile, "CONFIG_VFIO_DEVICE_CDEV", profile.has(key::vfio::kDeviceCdev),
                                              warnings);
    return p;
}

} // namespace

KernelConfig resolve_kernel_config(const guest::profiles::Profile& profile, Arch arch, const KernelCmdline& cmdline)
{
    return resolve_kernel_config(profile, arch, arch == Arch::kX86_64 ? FirmwareTables::kAcpi : FirmwareTables::kDeviceTree,
                                 cmdline);
}

KernelConfig resolve_kernel_config(const guest::profiles::Profile& profile, Arch arch, FirmwareTables tables,
                                   const KernelCmdline& cmdline)
{
    KernelConfig c;
    const std::string version = profile.version().str();
    // The driver: arm64 only from edcd69ab9a32 (v5.3), x86 too from 8ce4904bfd22 (v5.14).
    const guest::profiles::Decision exists = profile.has(arch == Arch::kX86_64 ? guest::profiles::fact::viommu::kX86 : guest::profiles::fact::viommu::kDriver);
    c.virtio_iommu = tristate(profile, "CONFIG_VIRTIO_IOMMU", exists.present ? Tristate::kModule : Tristate::kNo);
    if (c.virtio_iommu != Tristate::kNo && !exists.present) {
        c.warnings.push_back(fmt::format("{} sets CONFIG_VIRTIO_IOMMU, but {} has no virtio-iommu driver for {} ({}); "
                                         "modelled as not set",
                                         profile.name(), version, arch == Arch::kX86_64 ? "x86" : "arm64", exists.why));
        c.virtio_iommu = Tristate::kNo;
    }
    if (!exists.present)
        c.why_no_iommu = fmt::format("Linux {} has no virtio-iommu driver for {} ({})", version,
                                     arch == Arch::kX86_64 ? "x86" : "arm64", exists.why);
    else if (c.virtio_iommu == Tristate::kNo)
        c.why_no_iommu = fmt::format("{} does not build the virtio-iommu driver (CONFIG_VIRTIO_IOMMU is not set)",
                                     profile.name());

    if (tables == FirmwareTables::kAcpi) {
        // x86, or arm64 booted through UEFI: VIOT or nothing. An arm64 kernel before 5.14 has no VIOT
        // reader, so its devices get no IOMMU although the driver binds the virtio-iommu itself.
        const guest::profiles::Decision viot = profile.has(guest::profiles::fact::acpi::kViot);
        const Tristate acpi_viot = tristate(profile, "CONFIG_ACPI_VIOT", viot.present ? Tristate::kBuiltin : Tristate::kNo);
        c.firmware_describes = viot.present && acpi_viot != Tristate::kNo;
        if (c.why_no_iommu.empty() && !c.firmware_describes)
            c.why_no_iommu = viot.present ? fmt::format("{} does not build ACPI VIOT support (CONFIG_ACPI_VIOT)", profile.name())
                                          : fmt::format("Linux {} cannot read the ACPI VIOT table ({})", version, viot.why);
    } else {
        // QEMU virt's device tree: iommu-map on the host bridge, read by of_iommu since the driver came
        // (edcd69ab9a32, v5.3).
        c.firmware_describes = exists.present;
    }
    c.virtio_pci = tristate(profile, "CONFIG_VIRTIO_PCI", Tristate::kBuiltin);

    // The default domain: CONFIG_IOMMU_DEFAULT_* (lazy is the default on x86 since v5.15), then the
    // command line.
    c.passthrough = profile.config_enabled("CONFIG_IOMMU_DEFAULT_PASSTHROUGH");
    const auto strict = profile.config("CONFIG_IOMMU_DEFAULT_DMA_STRICT");
    c.strict = strict ? (*strict == "y") : arch != Arch::kX86_64;
    if (cmdline.passthrough) {
        c.passthrough = *cmdline.passthrough;
        c.passthrough_cmdline = true;
    }
    if (cmdline.strict) {
        c.strict = *cmdline.strict;
        c.strict_cmdline = true;
    }
    c.vfio = tristate(profile, "CONFIG_VFIO", Tristate::kModule) != Tristate::kNo;
    c.vfio_noiommu = profile.config_enabled("CONFIG_VFIO_NOIOMMU");
    c.vfio_paths = vfio_paths(profile, c.warnings);
    return c;
}

} // namespace viommu::system::boot
