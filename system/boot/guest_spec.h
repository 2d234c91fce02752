// What a synthetic guest is made of, independent of where the description came from (libvirt domain
// XML, a test, a generator): the machine, its PCI hierarchy with what sits in each function, the
// virtio-iommu, and the kernel command line options that change what the guest does.
//
// The boot (system/boot/guest.h) turns a GuestSpec and a kernel profile into a running guest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/pci_address.h"
#include "guest-model/pci/topology.h"
#include "guest-model/profiles/arch.h"
#include "guest-model/vfio/user_path.h"
#include "hw/virtio-iommu/host_constraints.h"
#include "virtio/feature_bits.h"

namespace viommu::system::boot {

// The guest's architecture is the one its kernel profile must be built for.
using Arch = guest::profiles::Arch;

// The interrupt controller MSIs go through: it decides whether VFIO sees isolated MSIs
// (irq_domain_check_msi_remap() before v6.3, msi_device_has_isolated_msi() since).
enum class MsiController {
    kX86Apic,  // x86 without interrupt remapping (QEMU q35 with only a virtio-iommu): not isolated
    kGicV3Its, // arm64 virt with its=on (QEMU's default from virt-2.x): IRQ_DOMAIN_FLAG_(MSI_REMAP|ISOLATED_MSI)
    kGicV2m,   // arm64 virt with gic-version=2: MSIs through a GICv2m frame, not isolated
};

// What describes the hardware to the guest kernel, and so which firmware tells it the virtio-iommu's
// topology. x86 guests always get QEMU's ACPI tables (VIOT for the virtio-iommu). QEMU's arm64 virt
// machine generates both a device tree (an iommu-map on the PCIe host node, create_virtio_iommu_dt_bindings()
// in hw/arm/virt.c) and ACPI tables (VIOT since cf1a5cc935c0, QEMU 7.0); the guest gets the ACPI ones
// only through UEFI firmware, which then withholds the device tree (edk2's PlatformHasAcpiDtDxe keys
// off QEMU's etc/table-loader), and arm64 Linux uses ACPI when its device tree is a stub
// (acpi_boot_table_init()). Booted without UEFI, or without ACPI, it reads the device tree.
enum class FirmwareTables { kAcpi, kDeviceTree };

// What a PCI function is, for the guest's drivers and for the DMA the boot makes it do.
enum class Role {
    kHostBridge,  // q35's 00:00.0 (the guest binds agpgart-intel to it)
    kBridge,      // a root port, switch port, PCIe-to-PCI or PCI-PCI bridge (guest::pci::Kind says which)
    kVirtioIommu, // the virtio-iommu's own function (virtio-iommu-pci); never translated by itself
    kVirtioNet,   // virtio-net-pci: fills receive buffers by DMA
    kVirtioBlk,   // virtio-blk-pci: reads and writes buffers by DMA
    kVirtioOther, // another virtio-pci device (rng, balloon, ...): bound by virtio-pci, no DMA modelled
    kHostdev,     // a host function assigned with VFIO: does DMA when its guest driver asks
    kEmulated,    // another emulated function (e1000e, ahci, ...): guest_driver names its driver
};

const char* role_name(Role role);

struct FunctionDesc {
    guest::pci::FunctionSpec pci;       // label, kind, slot, function, multifunction, acs
    int parent = -1;             // index in GuestSpec::functions of its bridge; -1: the root bus
    Role role = Role::kEmulated;
    // virtio: <driver iommu='on'/>, i.e. VIRTIO_F_ACCESS_PLATFORM (QEMU iommu_platform=on). Without it
    // QEMU's device reaches guest memory directly and Linux's virtio ring does not use the DMA API.
    bool iommu_platform = false;
    // The driver the guest binds to it at boot ("" none). Set for kEmulated and kHostdev; virtio,
    // bridges and the host bridge get theirs from the role.
    std::string guest_driver;
    // The guest's user binds vfio-pci to it and opens its group: the function gets a VFIO verdict.
    bool vfio = false;
    // Where it came from, for reports ("<hostdev> 0000:65:00.0", "<interface type='user'>").
    std::string source;
    // A hostdev's host IOMMU (viommu metadata <viommu:host-iommu>): what VFIO tells QEMU's virtio-iommu
    // of it when the device is plugged. None: nothing is known of the host, the device's defaults stand.
    std::optional<hw::virtio_iommu::HostIommuConstraints> host_iommu;
    // Its QEMU device ID (-device ...,id=): libvirt's alias of a PCI controller ("pci.3"), the id given
    // to device_add; "" none known.
    std::string qdev_id;
};

struct IommuDesc {
    bool present = false;
    int function = -1; // index of the virtio-iommu-pci function in GuestSpec::functions
    // QEMU's boot-bypass property (default on since QEMU 7.0, 448179e33ea8 "virtio-iommu: Default to
    // bypass during boot"): endpoints not attached to a domain bypass the IOMMU until the driver writes
    // config.bypass.
    bool boot_bypass = true;
    // QEMU's aw-bits and granule properties (QEMU 9.0): the input range [0, 2^aw_bits - 1] and the
    // page granule in bytes. None: the device's defaults (64 bits, 4 KiB), what QEMU 7.2 always has.
    std::optional<unsigned> aw_bits;
    std::optional<uint64_t> granule;
    // The VMM whose answers the device gives (hw/virtio-iommu/behaviour.h, "qemu-7.2"); "" none named.
    std::string device_profile;
    // Features the device holds back (what-if runs and tests: a device without MAP_UNMAP, PROBE, ...).
    virtio::FeatureBits withheld_features = 0;
    // QEMU's packed property (common to its virtio devices, off by default): the device offers
    // VIRTIO_F_RING_PACKED (virtio v1.2 §2.8).
    bool packed = false;
    // viommu's experimental non-coherent DMA extension (x-noncoherent, docs/noncoherent-extension.md):
    // not from any published spec, off unless the description turns it on.
    bool x_noncoherent = false;
};

// Kernel command line options the model honours (anything else on a command line is reported).
struct KernelCmdline {
    std::optional<bool> passthrough;       // iommu.passthrough=
    std::optional<bool> strict;            // iommu.strict=
    bool allow_unsafe_interrupts = false;  // vfio_iommu_type1.allow_unsafe_interrupts=1
    bool enable_unsafe_noiommu_mode = false; // vfio.enable_unsafe_noiommu_mode=1
    bool iommufd_allow_unsafe_interrupts = false; // iommufd.allow_unsafe_interrupts=1
    std::optional<int> deferred_probe_timeout;    // deferred_probe_timeout=
};

// A host function the domain does not assign at boot but a running guest can be given (QMP device_add
// vfio-pci host=ADDRESS): its host IOMMU, which VFIO hands the virtio-iommu when the device is plugged
// (<viommu:host-iommu hotplug='yes'>).
struct HotplugHost {
    PciAddress address;
    hw::virtio_iommu::HostIommuConstraints host_iommu;
};

// How the guest's user drives VFIO once vfio-pci is bound: type1, iommufd-compat or iommufd (the
// device cdev); guest-model/vfio/user_path.h.
using VfioBackend = guest::vfio::Backend;

struct GuestSpec {
    std::string name;
    Arch arch = Arch::kX86_64;
    MsiController msi = MsiController::kX86Apic;
    FirmwareTables tables = FirmwareTables::kAcpi;
    uint64_t ram_bytes = 256ull << 20;
    IommuDesc iommu;
    // Parents before their children. Bus numbers are assigned by the boot, as firmware does.
    std::vector<FunctionDesc> functions;
    KernelCmdline cmdline;
    // QEMU loads the kernel itself (<os><kernel>, -kernel): the firmware reads no boot disk.
    bool direct_kernel_boot = false;
    VfioBackend vfio_backend = VfioBackend::kType1Container;
    // The IOVA at which the VFIO user maps its buffer (VFIO_IOMMU_MAP_DMA): low and free by default.
    uint64_t vfio_map_iova = 0x100000;
    // Host functions kept for device_add, with their host IOMMU (none overlaps a boot-time hostdev).
    std::vector<HotplugHost> hotplug_hosts;
    // What the description holds that the model does not reproduce, one sentence each.
    std::vector<std::string> warnings;
    // Set when the guest is outside what viommu models, so that any verdict for it would be invented (an
    // IOMMU other than the virtio-iommu): what and why, one sentence. Such a guest is not booted
    // (boot_guest() refuses it); front ends report it as not modelled.
    std::string not_modelled;
};

} // namespace viommu::system::boot
