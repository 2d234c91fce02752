// <controller> other than type='pci' (libvirt_pci.cc has those), and the <disk>s that sit on them.
#include "system/boot/libvirt_device_model.h"

#include <fmt/format.h>

#include "system/boot/libxml.h"

namespace viommu::system::boot::device_model {

namespace {

constexpr std::array kUsbModels{
    Model{"qemu-xhci", "qemu-xhci", Role::kEmulated, "xhci_hcd"},
    Model{"nec-xhci", "nec-usb-xhci", Role::kEmulated, "xhci_hcd"},
    Model{"ich9-ehci1", "ich9-usb-ehci1", Role::kEmulated, "ehci-pci"},
    Model{"ich9-uhci1", "ich9-usb-uhci1", Role::kEmulated, "uhci_hcd"},
    Model{"ich9-uhci2", "ich9-usb-uhci2", Role::kEmulated, "uhci_hcd"},
    Model{"ich9-uhci3", "ich9-usb-uhci3", Role::kEmulated, "uhci_hcd"},
    Model{"piix3-uhci", "piix3-usb-uhci", Role::kEmulated, "uhci_hcd"},
    Model{"piix4-uhci", "piix4-usb-uhci", Role::kEmulated, "uhci_hcd"},
    Model{"vt82c686b-uhci", "vt82c686b-usb-uhci", Role::kEmulated, "uhci_hcd"},
    Model{"pci-ohci", "pci-ohci", Role::kEmulated, "ohci-pci"},
};

constexpr std::array kScsiModels{
    Model{"virtio-scsi", "virtio-scsi-pci", Role::kVirtioOther, ""},
    Model{"virtio-transitional", "virtio-scsi-pci-transitional", Role::kVirtioOther, ""},
    Model{"virtio-non-transitional", "virtio-scsi-pci-non-transitional", Role::kVirtioOther, ""},
    Model{"lsilogic", "lsi", Role::kEmulated, "sym53c8xx"},
    Model{"lsisas1068", "mptsas1068", Role::kEmulated, "mptsas"},
    Model{"lsisas1078", "megasas", Role::kEmulated, "megaraid_sas"},
    Model{"vmpvscsi", "pvscsi", Role::kEmulated, "vmw_pvscsi"},
    Model{"am53c974", "am53c974", Role::kEmulated, "am53c974"},
};

} // namespace

std::optional<PciDevice> disk(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                              std::vector<std::string>& warnings)
{
    const std::string bus = xml::attr_or(xml::first_child(device, "target"), "bus", "");
    if (bus == "virtio") {
        PciDevice d = virtio("virtio-blk-pci", Role::kVirtioBlk);
        d.iommu_platform = iommu_on(device);
        return d;
    }
    // Other disks sit on a controller that is a PCI function of its own (or none: fdc, usb storage).
    if (bus == "sata" || bus == "scsi" || bus == "ide")
        needs_controller(ctx, bus, what, warnings);
    return std::nullopt;
}

std::optional<PciDevice> controller(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                    std::vector<std::string>& warnings)
{
    const std::string type = xml::attr_or(device, "type", "");
    const std::optional<std::string> model = xml::attr(device, "model");
    const std::string index = xml::attr_or(device, "index", "0");
    if (type == "sata") {
        // q35's ICH9 AHCI at 00:1f.2 is libvirt's implicit sata controller index 0 (the machine's
        // built-in, added by libvirt_placement.cc).
        if (ctx.machine == MachineType::kQ35 && index == "0")
            return std::nullopt;
        return function("ich9-ahci", Role::kEmulated, "ahci");
    }
    if (type == "ide") {
        if (ctx.machine == MachineType::kPc && index == "0")
            return std::nullopt; // PIIX3's IDE function 00:01.1, built in
        return not_modelled(what, "only the i440fx machine's built-in IDE controller exists in QEMU", warnings);
    }
    if (type == "virtio-serial") {
        PciDevice d = virtio("virtio-serial-pci");
        d.iommu_platform = iommu_on(device);
        return d;
    }
    if (type == "usb") {
        if (model == "none")
            return std::nullopt;
        std::string chosen = model.value_or(ctx.machine == MachineType::kPc ? "piix3-uhci" : "qemu-xhci");
        if (!model)
            warnings.push_back(fmt::format("{} has no model; libvirt's QEMU driver chooses one from QEMU's "
                                           "capabilities; modelled as {}",
                                           what, chosen));
        const Model* m = find_model(kUsbModels, chosen);
        if (!m)
            return not_modelled(what, fmt::format("USB controller model '{}' is not a PCI device viommu knows", chosen),
                                warnings);
        return from_model(*m);
    }
    if (type == "scsi") {
        if (!model)
            return not_modelled(what, "libvirt's QEMU driver picks the SCSI model from QEMU's capabilities; say "
                                      "model='virtio-scsi' or another",
                                warnings);
        const Model* m = find_model(kScsiModels, *model);
        if (!m)
            return not_modelled(what, fmt::format("SCSI controller model '{}' is not a PCI device viommu knows", *model),
                                warnings);
        PciDevice d = from_model(*m);
        d.iommu_platform = m->role == Role::kVirtioOther && iommu_on(device);
        return d;
    }
    // fdc, isa, ccid, xenbus: not on PCI. (type='pci' never reaches here.)
    if (type == "fdc" || type == "isa" || type == "ccid" || type == "xenbus")
        return std::nullopt;
    return not_modelled(what, fmt::format("controller type '{}' is not one viommu knows", type), warnings);
}

} // namespace viommu::system::boot::device_model
