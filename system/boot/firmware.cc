// What the firmware tells the guest's IOMMU core about the virtio-iommu's topology: ACPI VIOT on x86
// (QEMU's hw/acpi/viot.c, Linux's drivers/acpi/viot.c) or the device tree's iommu-map on arm64.
#include "system/boot/boot.h"

namespace viommu::system::boot {

void Boot::describe_firmware()
{
    // VIOT (QEMU's hw/acpi/viot.c: one PCI range for every bus, endpoint ID = requester ID) or the
    // device tree's iommu-map: every PCI function but the IOMMU itself sits behind the virtio-iommu, and
    // Linux's IDs for it are its requester ID and DMA aliases (viot_pci_dev_iommu_init() is called
    // through pci_for_each_dma_alias()).
    const Function* iommu_fn = board_.iommu_function();
    if (!iommu_fn || !kconfig_.firmware_describes)
        return;
    const std::string fwnode = iommu_fn->pci->bdf();
    iommu_.set_iommu_node(*iommu_fn->dev, fwnode);
    for (Function& f : board_.functions()) {
        if (&f == iommu_fn)
            continue;
        guest::iommu::FirmwareLink link;
        link.iommu = fwnode;
        for (uint16_t id : guest::pci::linux_dma_aliases(*f.pci))
            link.ids.push_back(id);
        iommu_.set_firmware_link(*f.dev, std::move(link));
    }
}

} // namespace viommu::system::boot
