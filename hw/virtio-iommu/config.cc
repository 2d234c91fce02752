#include "hw/virtio-iommu/config.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/checked.h"
#include "base/parse.h"
#include "hw/virtio-iommu/probe.h"
#include "hw/virtio-iommu/wire.h"

namespace viommu::hw::virtio_iommu {

namespace {

bool in_any(const std::vector<EndpointRange>& set, EndpointId id)
{
    for (const EndpointRange& r : set)
        if (r.contains(id))
            return true;
    return false;
}

std::vector<std::string_view> split(std::string_view text, char sep)
{
    std::vector<std::string_view> parts;
    std::size_t from = 0;
    for (;;) {
        const std::size_t at = text.find(sep, from);
        parts.push_back(text.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
        if (at == std::string_view::npos)
            return parts;
        from = at + 1;
    }
}

// What a QEMU release cannot be told: a profile of it answers as it does only for a device it could
// have built. Its realize() fixes page_size_mask to TARGET_PAGE_MASK (4 KiB on x86), input_range to the
// whole 64-bit space, domain_range to all 32-bit IDs and probe_size to VIOMMU_PROBE_SIZE (512), and offers
// BYPASS_CONFIG and every other virtio-iommu feature; its reserved-regions property applies to every
// endpoint; its endpoints are PCI requester IDs.
void add_qemu_release_problems(const IommuConfig& c, const QemuRelease& qemu, std::vector<std::string>& out)
{
    const auto cannot = [&](std::string_view what, std::string_view qemu_value) {
        out.push_back(fmt::format("QEMU {} cannot be given {} (it has {})", qemu.version, what, qemu_value));
    };
    // From 9.0 the granule property takes 4k, 8k, 16k, 64k (or the host's page size) and aw-bits 32 to 64.
    const bool qemu_granule = c.page_size_mask == ~uint64_t{0xfff} ||
                              (qemu.granule_property && (c.page_size_mask == ~uint64_t{0x1fff} ||
                                                         c.page_size_mask == ~uint64_t{0x3fff} ||
                                                         c.page_size_mask == ~uint64_t{0xffff}));
    if (!qemu_granule)
        cannot("another granule", qemu.granule_property ? "4k, 8k, 16k or 64k" : "4 KiB, the x86 page size");
    const bool qemu_input_range = c.input_start == 0 &&
                                  (c.input_end == UINT64_MAX ||
                                   (qemu.aw_bits_property && c.input_end >= UINT32_MAX && is_power_of_two(c.input_end + 1)));
    if (!qemu_input_range)
        cannot("an input range",
               qemu.aw_bits_property ? "[0, 2^aw-bits - 1] with aw-bits 32 to 64" : "aw-bits 64, all of 0-0xffffffffffffffff");
    if (c.domain_start != 0 || c.domain_end != UINT32_MAX)
        cannot("a domain range", "all of 0-0xffffffff");
    if (c.probe_size != 512)
        cannot("another probe_size", "512");
    if (c.legacy_bypass)
        cannot("the legacy VIRTIO_IOMMU_F_BYPASS", "BYPASS_CONFIG");
    // Feature bits 0 to 6 are virtio-iommu's own (§5.13.3); QEMU has a switch for none of them.
    if (c.withheld & ((virtio::feature(wire::kFBypassConfig) << 1) - 1))
        cannot("a virtio-iommu feature to withhold", "no switch for them");
    for (const ReservedRegion& r : c.reserved)
        if (!r.endpoints.empty())
            cannot("a reserved region for some endpoints only", "reserved-regions, for every endpoint");
    for (const EndpointRange& r : c.endpoints)
        if (r.last.value() > 0xffff)
            cannot("endpoints beyond 0xffff", "PCI requester IDs, bus << 8 | devfn");
    if (c.x_noncoherent)
        cannot("viommu's experimental non-coherent extension", "no such feature");
}

} // namespace

std::vector<std::string> qemu_release_problems(const IommuConfig& c, const QemuRelease& qemu)
{
    std::vector<std::string> out;
    add_qemu_release_problems(c, qemu, out);
    return out;
}

// Whether every ID of r is in the set (which may list overlapping or unsorted ranges).
bool covers(const std::vector<EndpointRange>& set, EndpointRange r)
{
    uint64_t cur = r.first.value();
    for (std::size_t steps = 0; steps <= set.size(); ++steps) {
        const EndpointRange* holder = nullptr;
        for (const EndpointRange& s : set)
            if (s.contains(EndpointId(static_cast<uint32_t>(cur))) && (!holder || s.last > holder->last))
                holder = &s;
        if (!holder)
            return false;
        if (holder->last >= r.last)
            return true;
        cur = uint64_t{holder->last.value()} + 1;
    }
    return false;
}

bool ReservedRegion::applies_to(EndpointId endpoint) const
{
    return endpoints.empty() || in_any(endpoints, endpoint);
}

bool ReservedRegion::shares_endpoint_with(const ReservedRegion& other) const
{
    if (endpoints.empty() || other.endpoints.empty())
        return true;
    for (const EndpointRange& a : endpoints)
        for (const EndpointRange& b : other.endpoints)
            if (a.first <= b.last && b.first <= a.last)
                return true;
    return false;
}

std::optional<std::pair<std::size_t, std::size_t>> conflicting_reserved_regions(const std::vector<ReservedRegion>& regions)
{
    for (std::size_t j = 0; j < regions.size(); ++j)
        for (std::size_t i = 0; i < j; ++i)
            if (regions[i].type != regions[j].type && regions[i].range.intersects(regions[j].range) &&
                regions[i].shares_endpoint_with(regions[j]))
                return std::pair{i, j};
    return std::nullopt;
}

uint64_t IommuConfig::largest_probe_properties() const
{
    // The count of regions that apply is a sum of interval indicators, so it peaks at the first ID of
    // an endpoint range or of a region's range; regions name only endpoints that exist (problems()).
    uint64_t most = 0;
    const auto consider = [&](EndpointId id) {
        if (endpoint_exists(id))
            most = std::max(most, probe_properties_size(*this, id));
    };
    for (const EndpointRange& e : endpoints)
        consider(e.first);
    for (const ReservedRegion& r : reserved)
        for (const EndpointRange& e : r.endpoints)
            consider(e.first);
    return most;
}

bool IommuConfig::endpoint_exists(EndpointId id) const
{
    return in_any(endpoints, id);
}

bool IommuConfig::noncoherent(EndpointId id) const
{
    return std::find(noncoherent_endpoints.begin(), noncoherent_endpoints.end(), id) != noncoherent_endpoints.end();
}

std::vector<std::string> IommuConfig::problems() const
{
    std::vector<std::string> out;
    // §5.13.4: page_size_mask has at least one bit set; the granule is its lowest.
    if (page_size_mask == 0)
        out.push_back("page_size_mask must have at least one bit set");
    if (input_start > input_end)
        out.push_back(fmt::format("input range {:#x}-{:#x} is empty", input_start, input_end));
    if (domain_start > domain_end)
        out.push_back(fmt::format("domain range {}-{} is empty", domain_start, domain_end));
    if (probe_size % 8 != 0)
        out.push_back(fmt::format("probe_size {} is not a multiple of 8 (property lengths are)", probe_size));
    for (const EndpointRange& r : endpoints)
        if (r.first > r.last)
            out.push_back(fmt::format("endpoint range {:#x}-{:#x} is empty", r.first, r.last));
    for (const ReservedRegion& r : reserved) {
        if (r.range.first > r.range.last)
            out.push_back(fmt::format("reserved region {:#x}-{:#x} is empty", r.range.first, r.range.last));
        for (const EndpointRange& e : r.endpoints)
            if (!covers(endpoints, e))
                out.push_back(fmt::format("reserved region {:#x}-{:#x} names endpoints {:#x}-{:#x}, not all of which exist",
                                          r.range.first, r.range.last, e.first, e.last));
    }
    if (const auto pair = conflicting_reserved_regions(reserved)) {
        const ReservedRegion& a = reserved[pair->first];
        const ReservedRegion& b = reserved[pair->second];
        out.push_back(fmt::format("reserved regions {:#x}-{:#x} and {:#x}-{:#x} overlap with different types for the same endpoint",
                                  a.range.first, a.range.last, b.range.first, b.range.last));
    }
    // §5.13.6.7.2: properties that do not fit in probe_size make PROBE fail; Linux's viommu_probe_device()
    // then fails, and the endpoint is left without an IOMMU.
    if (const uint64_t needed = largest_probe_properties();
        !(withheld & virtio::feature(wire::kFProbe)) && needed > probe_size)
        out.push_back(fmt::format("probe_size {} is too small for the {} bytes of PROBE properties of some endpoints: "
                                  "every PROBE of them would fail",
                                  probe_size, needed));
    if (behaviour.qemu)
        add_qemu_release_problems(*this, *behaviour.qemu, out);
    if (limits.max_domains == 0 || limits.max_mappings_per_domain == 0 || limits.max_attached_endpoints == 0 ||
        limits.max_total_mappings == 0)
        out.push_back("limits must be at least 1");
    return out;
}

Expected<unsigned, std::string> feature_by_name(std::string_view name)
{
    static constexpr std::pair<std::string_view, unsigned> kNames[] = {
        {"input-range", wire::kFInputRange},
        {"domain-range", wire::kFDomainRange},
        {"map-unmap", wire::kFMapUnmap},
        {"bypass", wire::kFBypass},
        {"probe", wire::kFProbe},
        {"mmio", wire::kFMmio},
        {"bypass-config", wire::kFBypassConfig},
        {"indirect-desc", virtio::kFIndirectDesc},
        {"event-idx", virtio::kFEventIdx},
        {"ring-reset", virtio::kFRingReset},
    };
    for (const auto& [n, bit] : kNames)
        if (n == name)
            return bit;
    std::string known;
    for (const auto& [n, bit] : kNames)
        known += (known.empty() ? "" : ", ") + std::string(n);
    return unexpected(fmt::format("unknown feature '{}' (known: {})", name, known));
}

Expected<IdRange<uint32_t>, std::string> parse_id_range(std::string_view text, uint32_t max)
{
    const auto parts = split(text, '-');
    if (parts.size() > 2)
        return unexpected(fmt::format("'{}' is not an ID or a range FIRST-LAST", text));
    const auto first = parse_u64(parts[0], max);
    if (!first)
        return unexpected(first.error());
    const auto last = parts.size() == 2 ? parse_u64(parts[1], max) : first;
    if (!last)
        return unexpected(last.error());
    if (*last < *first)
        return unexpected(fmt::format("range '{}' ends before it starts", text));
    return IdRange<uint32_t>{static_cast<uint32_t>(*first), static_cast<uint32_t>(*last)};
}

Expected<std::vector<EndpointRange>, std::string> parse_endpoint_set(std::string_view text, uint32_t max)
{
    std::vector<EndpointRange> out;
    for (std::string_view part : split(text, ',')) {
        auto r = parse_id_range(part, max);
        if (!r)
            return unexpected(r.error());
        out.push_back({EndpointId(r->first), EndpointId(r->last)});
    }
    return out;
}

Expected<ReservedRegion, std::string> parse_reserved_region(std::string_view text)
{
    const auto parts = split(text, ':');
    if (parts.size() < 2 || parts.size() > 3)
        return unexpected(fmt::format("'{}' is not [ENDPOINTS:]START-END:reserved|msi", text));
    ReservedRegion r;
    std::size_t i = 0;
    if (parts.size() == 3) {
        auto eps = parse_endpoint_set(parts[i++], UINT32_MAX);
        if (!eps)
            return unexpected(eps.error());
        r.endpoints = *eps;
    }
    const auto bounds = split(parts[i++], '-');
    if (bounds.size() != 2)
        return unexpected(fmt::format("'{}': the region must be START-END", text));
    const auto start = parse_u64(bounds[0]);
    const auto end = parse_u64(bounds[1]);
    if (!start)
        return unexpected(start.error());
    if (!end)
        return unexpected(end.error());
    if (*end < *start)
        return unexpected(fmt::format("'{}': the region ends before it starts", text));
    r.range = IovaRange{Iova(*start), Iova(*end)};
    if (parts[i] == "msi")
        r.type = ResvMemSubtype::kMsi;
    else if (parts[i] == "reserved")
        r.type = ResvMemSubtype::kReserved;
    else
        return unexpected(fmt::format("'{}': the type must be 'reserved' or 'msi'", text));
    return r;
}

} // namespace viommu::hw::virtio_iommu
