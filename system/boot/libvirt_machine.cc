// The machine a domain asks for (<os><type>, <features><gic>), its <memory> and viommu's <metadata>.
#include "system/boot/libvirt_mapper.h"

#include <fmt/format.h>

#include "base/checked.h"
#include "base/parse.h"

namespace viommu::system::boot::domain_map {

std::optional<DomainError> Mapper::read_machine(const xmlNode* domain)
{
    domain_type_ = xml::attr_or(domain, "type", "");
    const xmlNode* type = xml::first_child(xml::first_child(domain, "os"), "type");
    const std::string os_type = trim(xml::text(type));
    if (os_type != "hvm")
        return unsupported(fmt::format("os type '{}' is not modelled: viommu models full virtualisation (hvm) guests",
                                       os_type));
    const std::string arch = xml::attr_or(type, "arch", "");
    if (arch == "x86_64")
        spec_.arch = Arch::kX86_64;
    else if (arch == "aarch64")
        spec_.arch = Arch::kAarch64;
    else
        return unsupported(fmt::format("arch '{}' is not modelled: viommu models x86_64 and aarch64 guests (libvirt "
                                       "makes a missing arch i686 on the test driver: say arch='x86_64')",
                                       arch));
    const std::optional<std::string> machine = xml::attr(type, "machine");
    const bool x86 = spec_.arch == Arch::kX86_64;
    if (!machine) {
        machine_ = x86 ? MachineType::kPc : MachineType::kVirt;
        warn(fmt::format("<os><type> names no machine; libvirt's QEMU driver takes QEMU's default, modelled as {}",
                         x86 ? "pc (i440fx)" : "virt"));
    } else if (x86 && (*machine == "q35" || starts_with(*machine, "pc-q35-"))) {
        machine_ = MachineType::kQ35;
    } else if (x86 && (*machine == "pc" || starts_with(*machine, "pc-i440fx-") ||
                       (starts_with(*machine, "pc-") && machine->size() > 3 && std::isdigit(static_cast<unsigned char>((*machine)[3]))))) {
        machine_ = MachineType::kPc;
    } else if (!x86 && (*machine == "virt" || starts_with(*machine, "virt-"))) {
        machine_ = MachineType::kVirt;
    } else {
        return unsupported(fmt::format("machine '{}' on {} is not modelled: viommu models q35 and pc (i440fx) on "
                                       "x86_64, virt on aarch64",
                                       *machine, arch));
    }

    // The interrupt controller MSIs go through (guest_spec.h MsiController).
    if (spec_.arch == Arch::kAarch64) {
        const xmlNode* gic = xml::first_child(xml::first_child(domain, "features"), "gic");
        const std::optional<std::string> version = xml::attr(gic, "version");
        if (version == "3") {
            spec_.msi = MsiController::kGicV3Its; // QEMU virt has its=on since virt-2.8
        } else if (version == "2") {
            spec_.msi = MsiController::kGicV2m;
        } else if (version == "host" || (!version && domain_type_ == "kvm")) {
            // qemuDomainDefEnableDefaultFeatures(): with KVM, the highest GIC version the host has.
            spec_.msi = MsiController::kGicV3Its;
            warn("the GIC version is the host's (KVM); modelled as GICv3 with an ITS, what current arm64 servers have: "
                 "say <gic version='2'/> or '3' to choose");
        } else {
            // qemuDomainDefEnableDefaultFeatures(): other than with KVM libvirt picks VIR_GIC_VERSION_DEFAULT, 2.
            spec_.msi = MsiController::kGicV2m;
        }
    } else {
        spec_.msi = MsiController::kX86Apic;
    }

    // What describes the hardware (guest_spec.h FirmwareTables): on aarch64 QEMU's ACPI tables reach the
    // guest only through UEFI firmware (<os firmware='efi'> or a <loader>) and only with <features><acpi/>.
    if (spec_.arch == Arch::kAarch64) {
        const xmlNode* os = xml::first_child(domain, "os");
        const bool uefi = xml::attr(os, "firmware") == "efi" || xml::first_child(os, "loader") != nullptr;
        const bool acpi = xml::first_child(xml::first_child(domain, "features"), "acpi") != nullptr;
        spec_.tables = uefi && acpi ? FirmwareTables::kAcpi : FirmwareTables::kDeviceTree;
        if (acpi && !uefi)
            warn("<features><acpi/> without UEFI firmware (<os firmware='efi'> or <loader>): nothing hands an aarch64 "
                 "guest QEMU's ACPI tables, so it is modelled booting with QEMU's device tree");
    }
    return std::nullopt;
}

void Mapper::read_memory(const xmlNode* domain)
{
    const xmlNode* memory = xml::first_child(domain, "memory");
    if (!memory)
        return;
    // libvirt normalises to KiB; other units are read for documents that did not come through libvirt.
    static const std::map<std::string, uint64_t, std::less<>> kUnits{
        {"b", 1},           {"bytes", 1},       {"KB", 1000},        {"k", 1024},         {"KiB", 1024},
        {"MB", 1000000},    {"M", 1u << 20},    {"MiB", 1u << 20},   {"GB", 1000000000},  {"G", 1u << 30},
        {"GiB", 1u << 30},  {"TB", 1000000000000}, {"T", 1ull << 40}, {"TiB", 1ull << 40}};
    const std::string unit = xml::attr_or(memory, "unit", "KiB");
    const auto scale = kUnits.find(unit);
    const auto value = parse_u64(trim(xml::text(memory)));
    const std::optional<uint64_t> bytes =
        scale != kUnits.end() && value ? checked_mul<uint64_t>(*value, scale->second) : std::nullopt;
    if (bytes && *bytes > 0)
        spec_.ram_bytes = *bytes;
    else
        warn(fmt::format("<memory unit='{}'> is not a size the model reads; it keeps {} MiB", unit,
                         spec_.ram_bytes >> 20));
}

namespace {

// The namespace of an element, "" for none.
std::string_view namespace_of(const xmlNode* n)
{
    return n->ns && n->ns->href ? std::string_view(reinterpret_cast<const char*>(n->ns->href)) : std::string_view();
}

} // namespace

std::optional<DomainError> Mapper::read_metadata(const xmlNode* domain)
{
    for (const xmlNode* md : xml::children(domain, "metadata")) {
        for (const xmlNode* c = md->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            const std::string_view ns = namespace_of(c);
            if (ns != kMetadataNamespace) {
                // Other applications' metadata (libosinfo, ...) has no bearing on the model.
                if (starts_with(ns, "https://viommu.dev/xmlns/"))
                    warn(fmt::format("<metadata>: namespace {} is not one this viommu reads (it reads {})", ns,
                                     kMetadataNamespace));
                continue;
            }
            if (xml::name(c) != "guest")
                warn(fmt::format("<metadata>: viommu element <{}> is unknown (the root is <guest>)", xml::name(c)));
            else if (auto err = read_viommu_guest(c))
                return err;
        }
    }
    return std::nullopt;
}

std::optional<DomainError> Mapper::read_viommu_guest(const xmlNode* guest)
{
    for (const xmlNode* e = guest->children; e; e = e->next) {
        if (e->type != XML_ELEMENT_NODE)
            continue;
        const std::string name = namespace_of(e) == kMetadataNamespace ? xml::name(e) : std::string();
        if (name == "vfio") {
            const std::string backend = xml::attr_or(e, "backend", "");
            if (const std::optional<VfioBackend> b = guest::vfio::backend_named(backend))
                spec_.vfio_backend = *b;
            else
                warn(fmt::format("<metadata>: <vfio backend='{}'> is none of 'type1', 'iommufd-compat' and 'iommufd'; "
                                 "the model keeps type1",
                                 backend));
        } else if (name == "hostdev") {
            const auto address = PciAddress::parse(xml::attr_or(e, "source", ""));
            const std::optional<std::string> driver = xml::attr(e, "driver");
            if (!address || !driver || driver->empty())
                warn("<metadata>: a <hostdev> entry needs source='DDDD:BB:SS.F' and driver='vfio-pci' or a driver "
                     "name; ignored");
            else
                overrides_.push_back({*address, *driver});
        } else if (name == "host-iommu") {
            if (auto err = read_host_iommu(e))
                return err;
        } else if (name == "iommu") {
            // The virtio-iommu's properties, named as QEMU names them (libvirt_iommu_properties.cc).
            for (const xmlAttr* a = e->properties; a; a = a->next) {
                const std::string attr = reinterpret_cast<const char*>(a->name);
                if (auto err = iommu_property(fmt::format("<viommu:iommu {}>", attr), attr, xml::attr_or(e, attr.c_str(), "")))
                    return err;
            }
        } else {
            warn(fmt::format("<metadata>: <{}> is not part of viommu's guest metadata", xml::name(e)));
        }
    }
    return std::nullopt;
}

} // namespace viommu::system::boot::domain_map
