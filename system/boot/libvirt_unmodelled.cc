// Settings of the domain that change what the guest or its IOMMU does and that the model does not
// reproduce: each is a warning, never silence. Settings with no bearing on PCI, the IOMMU or VFIO
// (display, sound back ends, host-side tuning) stay silent.
#include "system/boot/libvirt_mapper.h"

#include <fmt/format.h>

namespace viommu::system::boot::domain_map {

void Mapper::warn_unmodelled_settings(const xmlNode* domain)
{
    const xmlNode* os = xml::first_child(domain, "os");
    // The firmware's modelled acts are reading the boot disk (boot-bypass), the same for SeaBIOS and OVMF,
    // and on aarch64 whether UEFI hands the guest ACPI or the device tree (libvirt_machine.cc); what else
    // the chosen firmware does (option ROMs, its own drivers) is not modelled.
    if (const std::optional<std::string> firmware = xml::attr(os, "firmware"))
        warn(fmt::format("<os firmware='{}'>: the firmware is modelled only by its read from the boot disk, the same "
                         "for SeaBIOS and OVMF, and on aarch64 by the tables it hands over (ACPI or device tree)",
                         *firmware));
    else if (const xmlNode* loader = xml::first_child(os, "loader"))
        warn(fmt::format("<os><loader>{}</loader>: the firmware is modelled only by its read from the boot disk, the "
                         "same for SeaBIOS and OVMF, and on aarch64 by the tables it hands over (ACPI or device tree)",
                         trim(xml::text(loader))));
    // QEMU's split irqchip (kernel-irqchip=split) is what an intel-iommu's interrupt remapping needs; with
    // a virtio-iommu, which remaps no interrupt, MSIs stay unisolated either way.
    if (const std::optional<std::string> ioapic = xml::attr(xml::first_child(xml::first_child(domain, "features"), "ioapic"), "driver"))
        warn(fmt::format("<features><ioapic driver='{}'/>: the I/O APIC's place is not modelled; it does not isolate "
                         "MSIs (only interrupt remapping, which the virtio-iommu does not do, would)",
                         *ioapic));
    std::map<std::string, int> ordinals;
    for (const xmlNode* device : xml::children(xml::first_child(domain, "devices"))) {
        const std::string element = xml::name(device);
        const std::string what = describe_device(device, ++ordinals[element]);
        // ATS (PCIe Address Translation Services, QEMU ats=on): the device would cache translations,
        // which QEMU's virtio-iommu does not serve; the model translates every access.
        for (const xmlNode* driver : xml::children(device, "driver"))
            if (xml::attr(driver, "ats") == "on")
                warn(fmt::format("{} has <driver ats='on'>: ATS is not modelled; every DMA is translated by the IOMMU",
                                 what));
        // PCI host devices only: the others are not modelled at all (warned by libvirt_devices.cc).
        const bool pci_hostdev = element == "hostdev" ? xml::attr(device, "type") == "pci"
                                                      : element == "interface" && xml::attr(device, "type") == "hostdev";
        if (!pci_hostdev)
            continue;
        // The function's option ROM runs in the firmware, which is not modelled beyond the boot disk.
        if (const xmlNode* rom = xml::first_child(device, "rom"))
            warn(fmt::format("{} has <rom{}{}>: its option ROM is not modelled", what,
                             xml::attr(rom, "bar") ? fmt::format(" bar='{}'", *xml::attr(rom, "bar")) : "",
                             xml::attr(rom, "file") ? " file=..." : ""));
        // managed= stays silent: who binds the host's function to vfio-pci is the host's business, and
        // libvirt writes managed='no' back for a hostdev that did not say.
    }
}

} // namespace viommu::system::boot::domain_map
