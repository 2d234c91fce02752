// The virtio-iommu's QEMU properties, from the three places a libvirt 9.0 user can write them (libvirt
// 9.0 takes no <driver> attribute on <iommu model='virtio'>, virDomainIOMMUDefValidate()):
//   <metadata><viommu:guest><viommu:iommu boot-bypass='off' aw-bits='48' granule='4k' device-profile='qemu-7.2'/>
//   <qemu:commandline> -global virtio-iommu-pci.boot-bypass=off   (QEMU's own -global option)
//   <qemu:override><qemu:device alias='iommu0'><qemu:frontend><qemu:property name='boot-bypass' .../>
// libvirt's test driver validates the qemu: elements against the schema but keeps none of them in the
// XML it gives back, so they are read from the document as written.
#include "system/boot/libvirt_mapper.h"

#include <fmt/format.h>

#include "base/parse.h"
#include "hw/virtio-iommu/behaviour.h"

namespace viommu::system::boot::domain_map {

namespace {

constexpr std::string_view kQemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0";

bool in_namespace(const xmlNode* n, std::string_view ns)
{
    return n->ns && n->ns->href && std::string_view(reinterpret_cast<const char*>(n->ns->href)) == ns;
}

std::vector<const xmlNode*> qemu_children(const xmlNode* parent, std::string_view name)
{
    std::vector<const xmlNode*> out;
    for (const xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && in_namespace(c, kQemuNamespace) && xml::name(c) == name)
            out.push_back(c);
    return out;
}

// QEMU's boolean property values (qapi_bool_parse(): on/yes/true/y, off/no/false/n); libvirt's
// <qemu:property type='bool'> writes true/false.
std::optional<bool> qemu_bool(std::string_view v)
{
    if (v == "on" || v == "yes" || v == "true" || v == "y")
        return true;
    if (v == "off" || v == "no" || v == "false" || v == "n")
        return false;
    return std::nullopt;
}

// QEMU 9.0's GranuleMode (qapi/virtio.json): 4k, 8k, 16k, 64k, host.
std::optional<uint64_t> qemu_granule(std::string_view v)
{
    if (v == "4k")
        return 4096;
    if (v == "8k")
        return 8192;
    if (v == "16k")
        return 16384;
    if (v == "64k")
        return 65536;
    return std::nullopt;
}

} // namespace

std::optional<DomainError> Mapper::iommu_property(const std::string& origin, const std::string& name,
                                                  const std::string& value)
{
    const auto refuse = [&](std::string why) {
        return unsupported(fmt::format("{}: {}='{}': {}", origin, name, value, why));
    };
    // A QEMU boolean property into `field`.
    const auto boolean = [&](bool& field) -> std::optional<DomainError> {
        const std::optional<bool> on = qemu_bool(value);
        if (!on)
            return refuse("QEMU's boolean properties take on/off, yes/no or true/false");
        field = *on;
        return std::nullopt;
    };
    iommu_properties_from_.push_back(origin);
    if (name == "boot-bypass") {
        if (auto refused = boolean(spec_.iommu.boot_bypass))
            return refused;
    } else if (name == "aw-bits") {
        // The device's input range needs room for a page (12 bits) and fits 64; viommu-replay's --aw-bits
        // takes the same. QEMU 9.0 asks 32 to 64, which the device profile checks.
        const auto bits = parse_u64(value, 255);
        if (!bits || *bits < 12 || *bits > 64)
            return refuse("the input address width is 12 to 64 bits (QEMU 9.0 takes 32 to 64)");
        spec_.iommu.aw_bits = static_cast<unsigned>(*bits);
    } else if (name == "granule") {
        const std::optional<uint64_t> bytes = qemu_granule(value);
        if (!bytes)
            return refuse(value == "host" ? "the host's page size is the host's, which viommu does not know: say 4k, "
                                            "8k, 16k or 64k"
                                          : "QEMU's granule takes 4k, 8k, 16k, 64k or host");
        spec_.iommu.granule = *bytes;
    } else if (name == "packed") {
        // QEMU's DEFINE_VIRTIO_COMMON_FEATURES property of every virtio device, off by default.
        if (auto refused = boolean(spec_.iommu.packed))
            return refused;
    } else if (name == "x-noncoherent") {
        // viommu's experimental extension (docs/noncoherent-extension.md), in no QEMU: named as QEMU
        // names experimental properties, and refused under a QEMU device profile.
        if (auto refused = boolean(spec_.iommu.x_noncoherent))
            return refused;
    } else if (name == "device-profile") {
        if (!hw::virtio_iommu::find_device_profile(value))
            return refuse(fmt::format("unknown device profile (known: {})", hw::virtio_iommu::device_profile_names()));
        spec_.iommu.device_profile = value;
    } else {
        iommu_properties_from_.pop_back();
        warn(fmt::format("{}: the virtio-iommu property '{}' is not modelled, so without effect here (the model "
                         "takes boot-bypass, aw-bits, granule and packed)",
                         origin, name));
    }
    return std::nullopt;
}

std::optional<DomainError> Mapper::read_qemu_commandline(const xmlNode* domain)
{
    for (const xmlNode* commandline : qemu_children(domain, "commandline")) {
        std::vector<std::string> args;
        for (const xmlNode* arg : qemu_children(commandline, "arg"))
            args.push_back(xml::attr_or(arg, "value", ""));
        std::vector<std::string> ignored;
        for (std::size_t i = 0; i < args.size(); ++i) {
            // -global DRIVER.PROP=VALUE (QEMU's qemu_global_option()); the virtio-iommu's properties
            // are on virtio-iommu-device and aliased on its virtio-iommu-pci proxy.
            if (args[i] == "-global" && i + 1 < args.size()) {
                const std::string& global = args[i + 1];
                const std::size_t dot = global.find('.');
                const std::size_t eq = global.find('=');
                const std::string driver = dot == std::string::npos ? std::string() : global.substr(0, dot);
                if ((driver == "virtio-iommu-pci" || driver == "virtio-iommu-device") && eq != std::string::npos &&
                    eq > dot) {
                    if (auto err = iommu_property("<qemu:commandline> -global " + global,
                                                  global.substr(dot + 1, eq - dot - 1), global.substr(eq + 1)))
                        return err;
                    ++i;
                    continue;
                }
                ignored.push_back(args[i] + " " + global);
                ++i;
                continue;
            }
            ignored.push_back(args[i]);
        }
        if (!ignored.empty())
            warn(fmt::format("<qemu:commandline>: not modelled, so without effect here: {}", fmt::join(ignored, " ")));
    }
    return std::nullopt;
}

std::optional<DomainError> Mapper::read_qemu_override(const xmlNode* domain)
{
    // libvirt's QEMU driver names the IOMMU "iommu0" (qemuAssignDeviceIOMMUAlias()) unless the document
    // gives it a user alias (<alias name='ua-...'/>).
    std::string iommu_alias = "iommu0";
    for (const xmlNode* iommu : xml::children(xml::first_child(domain, "devices"), "iommu"))
        if (const std::optional<std::string> alias = xml::attr(xml::first_child(iommu, "alias"), "name"))
            iommu_alias = *alias;
    for (const xmlNode* override_node : qemu_children(domain, "override")) {
        for (const xmlNode* device : qemu_children(override_node, "device")) {
            const std::string alias = xml::attr_or(device, "alias", "");
            const bool is_iommu = alias == iommu_alias && spec_.iommu.present;
            for (const xmlNode* frontend : qemu_children(device, "frontend")) {
                for (const xmlNode* property : qemu_children(frontend, "property")) {
                    const std::string name = xml::attr_or(property, "name", "");
                    const std::optional<std::string> value = xml::attr(property, "value");
                    if (!is_iommu)
                        warn(fmt::format("<qemu:override>: property '{}' of device alias '{}' is not modelled, so "
                                         "without effect here",
                                         name, alias));
                    else if (!value)
                        warn(fmt::format("<qemu:override>: property '{}' of {} without a value (QEMU's default) is "
                                         "not modelled; the model keeps what else sets it",
                                         name, alias));
                    else if (auto err = iommu_property(fmt::format("<qemu:override> device '{}'", alias), name, *value))
                        return err;
                }
            }
        }
    }
    return std::nullopt;
}

} // namespace viommu::system::boot::domain_map
