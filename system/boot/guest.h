// Boots a synthetic guest: the hardware a GuestSpec describes (a virtio-iommu, endpoints that really
// DMA) and, on it, the guest kernel a profile describes (driver core, IOMMU core, the virtio-iommu
// driver, endpoint drivers, vfio-pci), in the order Linux brings them up:
//   subsys_initcall  iommu_subsys_init(), buses
//   PCI enumeration  device_add() of every function, bus by bus (pci_bus_add_devices())
//   device_initcall  built-in drivers register and probe; devices behind the IOMMU defer in
//                    dma_configure() until it is up
//   late_initcall    deferred probing is enabled
//   udev coldplug    modules load (virtio_iommu when =m, endpoint drivers); deferred devices bind
//   traffic          every endpoint driver maps a buffer and its device DMAs into it
//   VFIO             for each device the user assigns: bind vfio-pci, open its group, map, DMA
//
// The run is deterministic: the same spec and profile give the same report, byte for byte.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "system/boot/guest_spec.h"
#include "system/boot/report.h"
#include "guest-model/profiles/profile.h"
#include "hw/virtio-iommu/behaviour.h"
#include "system/workload/request.h"

namespace viommu::system::boot {

struct BootOptions {
    // Dynamic debug on (dyndbg=+p for the modelled call sites): the log gets the dev_dbg() lines too.
    bool dynamic_debug = false;
    // Whose answers the virtio-iommu gives: the spec's, or a QEMU release's (--device-profile). None:
    // the guest's own (IommuDesc::device_profile), else the spec's.
    std::optional<hw::virtio_iommu::DeviceBehaviour> device;
    // How the guest's user drives VFIO (--vfio-user); unset: as the guest's description says.
    std::optional<guest::vfio::Backend> vfio_user;
    // After the boot and the VFIO user's steps, run this I/O pattern through every endpoint it applies to
    // (viommu-boot --workload); the report's `workload` holds what it cost.
    std::optional<workload::Request> workload;
    // Whether the guest's virtio-iommu driver carries viommu's experimental non-coherent extension
    // (docs/noncoherent-extension.md) and accepts its bit when the device offers it. false: a stock
    // driver, which never negotiates the bit.
    bool driver_x_noncoherent = true;
};

// Why the guest cannot boot that kernel: a profile built for another architecture (an x86_64 kernel
// on an aarch64 guest). nullopt when it can; a profile that names no architecture fits every guest.
std::optional<std::string> arch_mismatch(const GuestSpec& spec, const guest::profiles::Profile& profile);

// The kernel a guest boots when none is chosen: the built-in default of its architecture.
guest::profiles::Profile default_profile(Arch arch);

// Throws std::invalid_argument for a spec that is inconsistent (a parent after its child, an IOMMU
// index that is not a virtio-iommu function), a profile of another architecture (arch_mismatch()) or a
// guest not modelled (GuestSpec::not_modelled): front ends check those first, so that is a bug.
GuestReport boot_guest(const GuestSpec& spec, const guest::profiles::Profile& profile, const BootOptions& options = {});

// The behaviour the guest's virtio-iommu gets: the options', else the one the guest names, else the spec's.
const hw::virtio_iommu::DeviceBehaviour& device_behaviour(const GuestSpec& spec, const BootOptions& options);
// What the guest's virtio-iommu cannot be given of its IommuDesc's properties under that behaviour (a
// QEMU release without the aw-bits property, a granule it does not take), one message each; empty
// when it can. boot_guest() throws std::invalid_argument for a spec with any: check first.
std::vector<std::string> iommu_option_problems(const GuestSpec& spec, const BootOptions& options);

} // namespace viommu::system::boot
