// <interface>: the NIC model libvirt's QEMU driver makes of it.
#include "system/boot/libvirt_device_model.h"

#include <fmt/format.h>

#include "system/boot/libxml.h"

namespace viommu::system::boot::device_model {

namespace {

constexpr std::array kNetModels{
    Model{"virtio", "virtio-net-pci", Role::kVirtioNet, ""},
    Model{"virtio-transitional", "virtio-net-pci-transitional", Role::kVirtioNet, ""},
    Model{"virtio-non-transitional", "virtio-net-pci-non-transitional", Role::kVirtioNet, ""},
    Model{"e1000", "e1000", Role::kEmulated, "e1000"},
    Model{"e1000e", "e1000e", Role::kEmulated, "e1000e"},
    Model{"igb", "igb", Role::kEmulated, "igb"},
    // QEMU's rtl8139 reports revision 0x20 (RTL8139_PCI_REVID), which 8139too declines as "an enhanced
    // 8139C+ chip, use 8139cp" (drivers/net/ethernet/realtek/8139too.c rtl8139_init_one()).
    Model{"rtl8139", "rtl8139", Role::kEmulated, "8139cp"},
    Model{"vmxnet3", "vmxnet3", Role::kEmulated, "vmxnet3"},
    Model{"pcnet", "pcnet", Role::kEmulated, "pcnet32"},
    Model{"ne2k_pci", "ne2k_pci", Role::kEmulated, "ne2k-pci"},
    Model{"i82551", "i82551", Role::kEmulated, "e100"},
    Model{"i82557b", "i82557b", Role::kEmulated, "e100"},
    Model{"i82559er", "i82559er", Role::kEmulated, "e100"},
};

} // namespace

std::optional<PciDevice> interface(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                   std::vector<std::string>& warnings)
{
    if (xml::attr(device, "type") == "hostdev")
        return hostdev(device, what, warnings);
    std::optional<std::string> model = xml::attr(xml::first_child(device, "model"), "type");
    if (!model) {
        // qemuDomainDefaultNetModel(): virtio on ARM virt; on x86 the first of rtl8139, e1000, ... that
        // QEMU has, which is rtl8139 for every QEMU Debian ships.
        model = ctx.machine == MachineType::kVirt ? "virtio" : "rtl8139";
        warnings.push_back(fmt::format("{} has no <model>; libvirt's QEMU driver picks {}, and so does the model",
                                       what, *model));
    }
    const Model* m = find_model(kNetModels, *model);
    if (!m)
        return not_modelled(what, fmt::format("NIC model '{}' is not a PCI device viommu knows", *model), warnings);
    PciDevice d = from_model(*m);
    d.iommu_platform = m->role == Role::kVirtioNet && iommu_on(device);
    return d;
}

} // namespace viommu::system::boot::device_model
