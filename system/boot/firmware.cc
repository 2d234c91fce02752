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
    for (Function& f : board_.functions())
        if (&f != iommu_fn)
            link_to_iommu(f, fwnode);
}

void Boot::link_to_iommu(Function& f, const std::string& fwnode)
{
    guest::iommu::FirmwareLink link;
    link.iommu = fwnode;
    for (uint16_t id : guest::pci::linux_dma_aliases(*f.pci))
        link.ids.push_back(id);
    iommu_.set_firmware_link(*f.dev, std::move(link));
}

void Boot::firmware_loads_kernel()
{
    // Before Linux runs, the firmware (SeaBIOS, OVMF) reads the kernel from the boot disk with its own
    // virtio-blk driver, which knows no IOMMU: it hands the device guest-physical addresses. With QEMU's
    // boot-bypass on that DMA bypasses the virtio-iommu, which is why QEMU turned it on by default
    // (448179e33ea8 "virtio-iommu: Default to bypass during boot": without it "the VM [is] entirely
    // unusable when a virtio-iommu driver isn't present, for example in a bootloader that loads the OS
    // from storage"). A kernel given to QEMU directly (<os><kernel>) is loaded through fw_cfg instead.
    // The model's boot disk is the first virtio-blk function.
    if (spec_.direct_kernel_boot)
        return;
    for (Function& f : board_.functions()) {
        if (f.desc->role != Role::kVirtioBlk)
            continue;
        f.firmware_dma = board_.firmware_dma(f);
        return;
    }
}

} // namespace viommu::system::boot
