// <viommu:host-iommu>: what a hostdev's host IOMMU tells QEMU's virtio-iommu through VFIO, which libvirt
// XML cannot say (docs/boot.md, "Host IOMMU constraints"):
//   <viommu:host-iommu source='0000:65:00.0' page-sizes='0x40201000' aw-bits='48' coherent='no'>
//     <viommu:reserved start='0xfee00000' end='0xfeefffff' type='msi'/>
//   </viommu:host-iommu>
// hotplug='yes' describes a host function the domain does not assign at boot, for a running guest's
// device_add vfio-pci host=ADDRESS (docs/monitor.md). Read strictly, as the device's command-line options
// are: a bad number, an inverted or overlapping range, an unknown attribute or element, a second entry
// for one host function, an entry that matches no hostdev, or a hotplug='yes' one that matches a hostdev
// is an error (exit 2), never a guess.
#include "system/boot/libvirt_mapper.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/parse.h"

namespace viommu::system::boot::domain_map {

namespace {

using hw::virtio_iommu::HostIommuConstraints;
using hw::virtio_iommu::HostReservedRange;
using hw::virtio_iommu::ResvMemSubtype;

std::vector<std::string> attribute_names(const xmlNode* e)
{
    std::vector<std::string> out;
    for (const xmlAttr* a = e->properties; a; a = a->next)
        out.emplace_back(reinterpret_cast<const char*>(a->name));
    return out;
}

// The first attribute of e not in known, if any.
std::optional<std::string> unknown_attribute(const xmlNode* e, std::initializer_list<std::string_view> known)
{
    for (const std::string& name : attribute_names(e))
        if (std::find(known.begin(), known.end(), name) == known.end())
            return name;
    return std::nullopt;
}

Expected<HostReservedRange, std::string> reserved_range(const xmlNode* r)
{
    if (const auto unknown = unknown_attribute(r, {"start", "end", "type"}))
        return unexpected(fmt::format("<reserved> has no attribute '{}' (it takes start, end and type)", *unknown));
    const std::optional<std::string> start_text = xml::attr(r, "start");
    const std::optional<std::string> end_text = xml::attr(r, "end");
    if (!start_text || !end_text)
        return unexpected(std::string("<reserved> needs start and end (the last reserved byte)"));
    const auto start = parse_u64(*start_text);
    if (!start)
        return unexpected(fmt::format("<reserved start='{}'>: {}", *start_text, start.error()));
    const auto end = parse_u64(*end_text);
    if (!end)
        return unexpected(fmt::format("<reserved end='{}'>: {}", *end_text, end.error()));
    if (*end < *start)
        return unexpected(fmt::format("<reserved start='{}' end='{}'> ends before it starts", *start_text, *end_text));
    const std::string type = xml::attr_or(r, "type", "");
    if (type != "reserved" && type != "msi")
        return unexpected(fmt::format("<reserved type='{}'>: the type is 'reserved' or 'msi'", type));
    return HostReservedRange{{Iova(*start), Iova(*end)}, type == "msi" ? ResvMemSubtype::kMsi : ResvMemSubtype::kReserved};
}

Expected<HostIommuConstraints, std::string> host_constraints(const xmlNode* e)
{
    if (const auto unknown = unknown_attribute(e, {"source", "page-sizes", "aw-bits", "coherent", "hotplug"}))
        return unexpected(
            fmt::format("no attribute '{}' (it takes source, page-sizes, aw-bits, coherent and hotplug)", *unknown));
    HostIommuConstraints host;
    if (const std::optional<std::string> text = xml::attr(e, "page-sizes")) {
        const auto mask = parse_u64(*text);
        if (!mask)
            return unexpected(fmt::format("page-sizes='{}': {}", *text, mask.error()));
        if (*mask == 0)
            return unexpected(fmt::format("page-sizes='{}': the host IOMMU has at least one page size", *text));
        host.page_size_mask = *mask;
    }
    if (const std::optional<std::string> text = xml::attr(e, "aw-bits")) {
        // Room for a page (12 bits) up to the whole 64-bit space, as the virtio-iommu's own aw-bits.
        const auto bits = parse_u64(*text, 255);
        if (!bits || *bits < 12 || *bits > 64)
            return unexpected(fmt::format("aw-bits='{}': the host's input address width is 12 to 64 bits", *text));
        host.aw_bits = static_cast<unsigned>(*bits);
    }
    if (const std::optional<std::string> text = xml::attr(e, "coherent")) {
        if (*text != "yes" && *text != "no")
            return unexpected(fmt::format("coherent='{}': 'yes' or 'no'", *text));
        host.coherent = *text == "yes";
    }
    for (const xmlNode* c = e->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (xml::name(c) != "reserved" || !c->ns || !c->ns->href ||
            std::string_view(reinterpret_cast<const char*>(c->ns->href)) != kMetadataNamespace)
            return unexpected(fmt::format("<{}> is unknown here (it holds <viommu:reserved> only)", xml::name(c)));
        auto range = reserved_range(c);
        if (!range)
            return unexpected(range.error());
        for (const HostReservedRange& other : host.reserved)
            if (other.range.intersects(range->range))
                return unexpected(fmt::format("<reserved> {:#x}-{:#x} overlaps {:#x}-{:#x}", range->range.first,
                                              range->range.last, other.range.first, other.range.last));
        host.reserved.push_back(*range);
    }
    return host;
}

} // namespace

std::optional<DomainError> Mapper::read_host_iommu(const xmlNode* e)
{
    const std::string source = xml::attr_or(e, "source", "");
    const auto refuse = [&](std::string_view why) {
        return unsupported(fmt::format("<metadata>: <viommu:host-iommu source='{}'>: {}", source, why));
    };
    const auto address = PciAddress::parse(source);
    if (!address)
        return refuse("source is the hostdev's host PCI address, DDDD:BB:SS.F");
    for (const HostIommuEntry& h : host_iommus_)
        if (h.address == *address)
            return refuse("a second entry for the same hostdev");
    const std::string hotplug = xml::attr_or(e, "hotplug", "no");
    if (hotplug != "yes" && hotplug != "no")
        return refuse(fmt::format("hotplug='{}': 'yes' or 'no'", hotplug));
    auto constraints = host_constraints(e);
    if (!constraints)
        return refuse(constraints.error());
    host_iommus_.push_back({*address, std::move(*constraints), hotplug == "yes"});
    return std::nullopt;
}

} // namespace viommu::system::boot::domain_map
