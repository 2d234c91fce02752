// The mapper's passes in order, and the checks that need all of the domain.
#include "system/boot/libvirt_mapper.h"

#include <fmt/format.h>

#include "system/boot/kernel_cmdline.h"

namespace viommu::system::boot::domain_map {

Expected<GuestSpec, DomainError> Mapper::run(const xmlNode* domain)
{
    if (!xml::is_element(domain, "domain"))
        return unexpected(unsupported(fmt::format("the document's root element is <{}>, not <domain>", xml::name(domain))));
    spec_.name = trim(xml::text(xml::first_child(domain, "name")));
    if (auto err = read_machine(domain))
        return unexpected(*err);
    read_memory(domain);
    read_metadata(domain);
    const xmlNode* os = xml::first_child(domain, "os");
    if (const xmlNode* cmdline = xml::first_child(os, "cmdline"))
        spec_.cmdline = parse_kernel_cmdline(xml::text(cmdline), spec_.arch, spec_.warnings);
    const xmlNode* features = xml::first_child(domain, "features");
    const bool acpi = xml::first_child(features, "acpi") != nullptr;

    add_builtins(acpi);
    if (auto err = read_devices(xml::first_child(domain, "devices")))
        return unexpected(*err);
    if (!spec_.not_modelled.empty())
        return std::move(spec_); // nothing more of it is modelled
    if (machine_ == MachineType::kPc) {
        // qemuValidateDomainDeviceDefIOMMU(): "IOMMU device: 'virtio' is only supported with Q35 and ARM Virt
        // machines"; the PCI Express controllers need the PCIe root complex i440fx lacks.
        if (spec_.iommu.present)
            warn("libvirt's QEMU driver accepts a virtio-iommu only on q35 and virt machines; the model keeps it on pc");
        for (const Item& item : items_)
            if (item.fn.role == Role::kBridge && item.fn.pci.kind != Kind::kPciBridge)
                warn(fmt::format("{} needs a PCI Express root complex, which machine pc (i440fx) lacks; libvirt's "
                                 "QEMU driver refuses it, the model keeps it",
                                 item.fn.source));
    }
    if (spec_.iommu.present && spec_.arch == Arch::kX86_64 && !acpi)
        warn("the virtio-iommu on x86 reaches the guest through ACPI's VIOT table, but the domain has no "
             "<features><acpi/>: the guest would find no endpoints behind it, and libvirt's QEMU driver refuses this");
    if (auto err = place_unaddressed())
        return unexpected(*err);
    if (auto err = resolve_parents())
        return unexpected(*err);
    build_tree();
    return std::move(spec_);
}

} // namespace viommu::system::boot::domain_map

namespace viommu::system::boot {

Expected<GuestSpec, DomainError> guest_spec_from_normalised_xml(std::string_view text, std::string_view source)
{
    const xml::Doc doc = xml::parse(text);
    if (!doc)
        return unexpected(DomainError{DomainError::Kind::kNotXml, std::string(source), "not well-formed XML"});
    return domain_map::Mapper(source).run(xmlDocGetRootElement(doc.get()));
}

} // namespace viommu::system::boot
