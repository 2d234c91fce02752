#include "system/boot/guest.h"

#include <stdexcept>

#include <fmt/format.h>

#include "system/boot/boot.h"

namespace viommu::system::boot {

namespace {

namespace iommu = guest::iommu;
namespace vfio = guest::vfio;

iommu::CoreConfig core_config(const KernelConfig& k, FirmwareTables tables)
{
    iommu::CoreConfig c;
    // ACPI guests (every x86 one, arm64 under UEFI) learn the topology from VIOT; QEMU's arm64 virt
    // machine booted with a device tree puts an iommu-map on the PCI host bridge (of_iommu_configure(),
    // which gives up waiting after the deferred-probe timeout).
    c.firmware = tables == FirmwareTables::kAcpi ? iommu::Firmware::kAcpiViot : iommu::Firmware::kDeviceTree;
    // ACS is asked for before the PCI scan only by ACPI table parsing (iommu::CoreConfig::acs_requested).
    c.acs_requested = tables == FirmwareTables::kAcpi;
    c.passthrough = k.passthrough;
    c.passthrough_cmdline = k.passthrough_cmdline;
    c.strict = k.strict;
    c.strict_cmdline = k.strict_cmdline;
    c.iommu_driver_built = k.virtio_iommu != Tristate::kNo;
    return c;
}

vfio::GateConfig gate_config(const GuestSpec& spec, const KernelConfig& k, const BootOptions& options)
{
    vfio::GateConfig g;
    g.noiommu_built = k.vfio_noiommu;
    g.enable_unsafe_noiommu_mode = spec.cmdline.enable_unsafe_noiommu_mode;
    g.allow_unsafe_interrupts = spec.cmdline.allow_unsafe_interrupts;
    g.iommufd_allow_unsafe_interrupts = spec.cmdline.iommufd_allow_unsafe_interrupts;
    g.user_iova = spec.vfio_map_iova;
    // Only a GICv3 ITS isolates MSIs: x86 without interrupt remapping and GICv2m do not.
    g.msi_isolated = spec.msi == MsiController::kGicV3Its;
    g.msi_platform = spec.arch == Arch::kX86_64 ? vfio::MsiPlatform::kX86 : vfio::MsiPlatform::kArm64;
    // The run's user path: --vfio-user, else the description's <viommu:vfio backend=...>.
    g.backend = options.vfio_user.value_or(spec.vfio_backend);
    g.paths = k.vfio_paths;
    return g;
}

guest::driver_core::DriverCoreOptions core_options(const GuestSpec& spec)
{
    guest::driver_core::DriverCoreOptions o;
    o.deferred_probe_timeout = spec.cmdline.deferred_probe_timeout;
    return o;
}

machine::MachineConfig machine_config(const GuestSpec& spec)
{
    machine::MachineConfig m;
    m.ram_size = spec.ram_bytes;
    return m;
}

} // namespace

std::optional<std::string> arch_mismatch(const GuestSpec& spec, const guest::profiles::Profile& profile)
{
    if (profile.fits(spec.arch))
        return std::nullopt;
    const std::string_view guest = guest::profiles::arch_name(spec.arch);
    return fmt::format("kernel profile \"{}\" is built for {}, but guest \"{}\" is an {} guest: choose an {} "
                       "profile such as {} (--list-kernels shows each profile's architecture)",
                       profile.name(), guest::profiles::arch_name(*profile.arch()), spec.name, guest, guest,
                       guest::profiles::Profile::default_name(spec.arch));
}

guest::profiles::Profile default_profile(Arch arch)
{
    auto p = guest::profiles::Profile::named(guest::profiles::Profile::default_name(arch));
    // profiles.json's "default" is checked to name a built-in profile of that architecture when it is read.
    if (!p)
        throw std::logic_error(p.error());
    return std::move(*p);
}

namespace {

const GuestSpec& checked_arch(const GuestSpec& spec, const guest::profiles::Profile& profile)
{
    if (auto why = arch_mismatch(spec, profile))
        throw std::invalid_argument(*why);
    return spec;
}

} // namespace

Boot::Boot(const GuestSpec& spec, const guest::profiles::Profile& profile, const BootOptions& options)
    : spec_(checked_arch(spec, profile)), profile_(profile), workload_(options.workload), kconfig_(resolve_kernel_config(profile, spec.arch, spec.tables, spec.cmdline)),
      behaviour_(BootBehaviour::from(profile)), log_(clock_), machine_(machine_config(spec)), board_(spec, machine_, device_behaviour(spec, options)),
      core_(profile, log_, clock_, core_options(spec)),
      iommu_(core_, core_config(kconfig_, spec.tables), iommu::CoreBehaviour::from(profile)),
      dma_(iommu_, clock_, machine_.allocator()),
      gate_(profile, core_, iommu_, machine_.allocator(), gate_config(spec, kconfig_, options))
{
    log_.set_dynamic_debug(options.dynamic_debug);
    driver_x_noncoherent_ = options.driver_x_noncoherent;
    warnings_ = spec.warnings;
    warnings_.insert(warnings_.end(), kconfig_.warnings.begin(), kconfig_.warnings.end());
    warnings_.insert(warnings_.end(), board_.host_iommu_notes().begin(), board_.host_iommu_notes().end());
    // Drivers that manage their DMA themselves and do not use the default domain: pcieport
    // (c7d469849747), vfio-pci and pci-stub (v5.19, with the DMA ownership of 1ea2a07a532b).
    if (behaviour_.dma_ownership)
        driver_managed_dma_ = {"pcieport", "vfio-pci", "pci-stub"};
}

GuestReport Boot::run()
{
    boot();
    GuestReport result = report();
    if (workload_)
        result.workload = run_workload(*workload_);
    return result;
}

const char* dma_result_name(DmaResult r)
{
    switch (r) {
    case DmaResult::kNotRun: return "none";
    case DmaResult::kTranslated: return "translated";
    case DmaResult::kIdentity: return "identity";
    case DmaResult::kBypassed: return "bypassed";
    case DmaResult::kDirect: return "direct";
    case DmaResult::kFault: return "fault";
    case DmaResult::kCorrupt: return "corrupt";
    }
    return "?";
}

int GuestReport::exit_code() const
{
    for (const DeviceReport& d : devices)
        if (d.vfio && !d.vfio->admitted)
            return 1;
    return 0;
}

GuestReport boot_guest(const GuestSpec& spec, const guest::profiles::Profile& profile, const BootOptions& options)
{
    if (!spec.not_modelled.empty())
        throw std::invalid_argument("the guest is not modelled: " + spec.not_modelled);
    if (const auto problems = iommu_option_problems(spec, options); !problems.empty())
        throw std::invalid_argument(problems.front());
    Boot boot(spec, profile, options);
    return boot.run();
}

} // namespace viommu::system::boot
