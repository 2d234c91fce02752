// The mapper's passes in order, and the checks that need all of the domain.
#include "system/boot/libvirt_mapper.h"

#include <fmt/format.h>

#include "system/boot/kernel_cmdline.h"

namespace viommu::system::boot::domain_map {

Expected<GuestSpec, DomainError> Mapper::run(const xmlNode* domain, const xmlNode* written)
{
    if (!xml::is_element(domain, "domain"))
        return unexpected(unsupported(fmt::format("the document's root element is <{}>, not <domain>", xml::name(domain))));
    spec_.name = trim(xml::text(xml::first_child(domain, "name")));
    if (auto err = read_machine(domain))
        return unexpected(*err);
    read_memory(domain);
    if (auto err = read_metadata(domain))
        return unexpected(*err);
    const xmlNode* os = xml::first_child(domain, "os");
    spec_.direct_kernel_boot = xml::first_child(os, "kernel") != nullptr;
    if (const xmlNode* cmdline = xml::first_child(os, "cmdline"))
        spec_.cmdline = parse_kernel_cmdline(xml::text(cmdline), spec_.arch, spec_.warnings);
    const xmlNode* features = xml::first_child(domain, "features");
    const bool acpi = xml::first_child(features, "acpi") != nullptr;

    add_builtins(acpi);
    if (auto err = read_devices(xml::first_child(domain, "devices")))
        return unexpected(*err);
    if (!spec_.not_modelled.empty())
        return std::move(spec_); // nothing more of it is modelled
    if (auto err = read_qemu_commandline(written))
        return unexpected(*err);
    if (auto err = read_qemu_override(written))
        return unexpected(*err);
    warn_unmodelled_settings(domain);
    if (!spec_.iommu.present && !iommu_properties_from_.empty())
        warn(fmt::format("{} sets properties of a virtio-iommu the guest does not have; without effect",
                         iommu_properties_from_.front()));
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

namespace domain_map {

Expected<GuestSpec, DomainError> map_domain(std::string_view normalised, const xmlNode* written, std::string_view source)
{
    const xml::Doc doc = xml::parse(normalised);
    if (!doc)
        return unexpected(DomainError{DomainError::Kind::kNotXml, std::string(source), "not well-formed XML"});
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    return Mapper(source).run(root, written ? written : root);
}

} // namespace domain_map

Expected<GuestSpec, DomainError> guest_spec_from_normalised_xml(std::string_view text, std::string_view source)
{
    return domain_map::map_domain(text, nullptr, source);
}

} // namespace viommu::system::boot
