// What each libvirt device element is on the guest's PCI bus: the QEMU device libvirt's QEMU driver
// makes of it, the Role the boot gives it, and the Linux driver that binds to it. PCI controllers,
// which make the topology, are libvirt_domain_map.cc's business. Internal to system/boot.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <libxml/tree.h>

#include "base/pci_address.h"
#include "system/boot/guest_spec.h"

namespace viommu::system::boot {

enum class MachineType {
    kQ35,  // QEMU q35 / pc-q35-*: PCIe root complex, ICH9 built-ins
    kPc,   // QEMU pc / pc-i440fx-*: conventional PCI root bus, PIIX3/PIIX4 built-ins
    kVirt, // QEMU arm virt: PCIe root complex (GPEX)
};

struct DeviceContext {
    MachineType machine = MachineType::kQ35;
    Arch arch = Arch::kX86_64;
    // Controller types the document has (<controller type='T'>), and those the machine has built in.
    std::vector<std::string> controller_types;
};

struct PciDevice {
    std::string label;        // the QEMU device ("virtio-net-pci", "e1000e", "vfio-pci")
    Role role = Role::kEmulated;
    std::string guest_driver; // Linux's pci_driver name for kEmulated ("" none binds)
    bool iommu_platform = false;
    std::optional<PciAddress> host_address; // kHostdev: the host function
};

// How warnings and reports name a device element: "<disk> vda", "<hostdev> 0000:3b:00.1",
// "<controller type='pci' index='1' model='pcie-root-port'>", else "<rng> #2" (ordinal: 1-based among
// the elements of its name). Never anything libvirt generates at random (MAC addresses, UUIDs), so
// two parses of one document describe it alike.
std::string describe_device(const xmlNode* device, int ordinal);

// A device element of <devices> other than <controller type='pci'> and <iommu>: the PCI function it
// makes, or none (not a PCI device, or not modelled). what names the element in warnings; everything
// valid that the model leaves out adds one sentence to warnings.
std::optional<PciDevice> classify_device(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                         std::vector<std::string>& warnings);

} // namespace viommu::system::boot
