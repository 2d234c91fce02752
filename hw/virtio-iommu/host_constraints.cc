#include "hw/virtio-iommu/host_constraints.h"

#include <bit>

#include <fmt/format.h>

#include "hw/virtio-iommu/probe.h"

namespace viommu::hw::virtio_iommu {

namespace {

// The mask check of one plug, in the words of the release config.behaviour stands for: the reason for a
// refusal, or nothing. notes gets QEMU 7.2's warning for a frozen mask that differs above the granule.
std::optional<std::string> page_mask_refusal(const IommuConfig& config, uint64_t host_mask, bool frozen,
                                             std::vector<std::string>& notes)
{
    const uint64_t cur = config.page_size_mask;
    const FrozenGranuleCheck check = config.behaviour.frozen_granule_check;
    if ((cur & host_mask) == 0) {
        // Both releases refuse a mask with no page size in common, frozen or not.
        if (check == FrozenGranuleCheck::kSameGranule)
            return fmt::format("virtio-iommu page mask {:#x} is incompatible with mask {:#x}", cur, host_mask);
        return fmt::format("virtio-iommu reports a page size mask {:#x} incompatible with currently supported mask {:#x}",
                           host_mask, cur);
    }
    if (!frozen)
        return std::nullopt;
    const unsigned granule = static_cast<unsigned>(std::countr_zero(cur));
    if (check == FrozenGranuleCheck::kSameGranule) {
        if (static_cast<unsigned>(std::countr_zero(host_mask)) != granule)
            return fmt::format("virtio-iommu page mask {:#x} is incompatible with mask {:#x}", cur, host_mask);
        if (host_mask != cur)
            notes.push_back(fmt::format("virtio-iommu page mask {:#x} does not match {:#x}", cur, host_mask));
        return std::nullopt;
    }
    if (!(host_mask & (uint64_t{1} << granule)))
        return fmt::format("virtio-iommu does not support frozen granule {:#x}", uint64_t{1} << granule);
    return std::nullopt;
}

// range less every region of config that applies to endpoint: QEMU's rebuild_resv_regions() gives the
// machine's reserved-regions priority over the host's, which resv_region_list_insert() splits around them.
std::vector<IovaRange> cut_around_machine_regions(const IommuConfig& config, EndpointId endpoint, IovaRange range)
{
    std::vector<IovaRange> pieces{range};
    for (const ReservedRegion& r : config.reserved) {
        if (!r.applies_to(endpoint))
            continue;
        std::vector<IovaRange> left;
        for (const IovaRange& p : pieces) {
            if (!p.intersects(r.range)) {
                left.push_back(p);
                continue;
            }
            if (p.first < r.range.first)
                left.push_back({p.first, Iova(r.range.first.value() - 1)});
            if (r.range.last < p.last)
                left.push_back({Iova(r.range.last.value() + 1), p.last});
        }
        pieces = std::move(left);
    }
    return pieces;
}

} // namespace

std::vector<HostReservedRange> host_reserved_ranges(const HostIommuConstraints& host)
{
    std::vector<HostReservedRange> out = host.reserved;
    if (host.aw_bits && *host.aw_bits < 64)
        out.push_back({{Iova(uint64_t{1} << *host.aw_bits), Iova(UINT64_MAX)}, ResvMemSubtype::kReserved});
    return out;
}

Expected<std::vector<std::string>, std::string>
apply_host_constraints(IommuConfig& config, EndpointId endpoint, const HostIommuConstraints& host, bool granule_frozen)
{
    std::vector<std::string> notes;
    IommuConfig next = config;
    if (!next.endpoint_exists(endpoint))
        next.endpoints.push_back({endpoint, endpoint});
    if (host.page_size_mask) {
        if (auto refused = page_mask_refusal(next, host.page_size_mask, granule_frozen, notes))
            return unexpected(std::move(*refused));
        if (!granule_frozen)
            next.page_size_mask &= host.page_size_mask;
    }

    const std::vector<HostReservedRange> host_ranges = host_reserved_ranges(host);
    const std::string_view release = next.behaviour.qemu ? next.behaviour.qemu->version : std::string_view();
    if (!host_ranges.empty() && !next.behaviour.takes_host_iova_ranges) {
        notes.push_back(fmt::format("QEMU {} learns no reserved regions or address width of the host from VFIO (QEMU 9.0 "
                                    "does): the endpoint {:#x}'s {} host reserved ranges are not in its PROBE",
                                    release, endpoint.value(), host_ranges.size()));
    } else {
        std::vector<ReservedRegion> added;
        for (const HostReservedRange& h : host_ranges) {
            // QEMU knows only the host's usable ranges, so each hole it reports is RESERVED.
            ResvMemSubtype type = h.type;
            if (next.behaviour.qemu && type != ResvMemSubtype::kReserved) {
                notes.push_back(fmt::format("QEMU {} reports every host reserved region as RESERVED: {:#x}-{:#x} "
                                            "is not an MSI region to the guest",
                                            release, h.range.first, h.range.last));
                type = ResvMemSubtype::kReserved;
            }
            for (const IovaRange& piece : cut_around_machine_regions(next, endpoint, h.range))
                added.push_back({{{endpoint, endpoint}}, piece, type, true});
        }
        next.reserved.insert(next.reserved.end(), added.begin(), added.end());
    }

    if (!host.coherent) {
        if (next.x_noncoherent)
            next.noncoherent_endpoints.push_back(endpoint);
        else
            notes.push_back(fmt::format("endpoint {:#x}'s DMA is not cache-coherent, but the device does not offer the "
                                        "experimental non-coherent extension (x-noncoherent): the guest cannot tell",
                                        endpoint.value()));
    }

    // §5.13.6.7.2: properties beyond probe_size would make every PROBE of the endpoint fail.
    if (const uint64_t bytes = probe_properties_size(next, endpoint); bytes > next.probe_size)
        return unexpected(fmt::format("endpoint {:#x}'s {} bytes of PROBE properties do not fit probe_size {}",
                                      endpoint.value(), bytes, next.probe_size));
    // The machine's regions won above; what is left to clash is two host ranges of different types.
    if (const auto pair = conflicting_reserved_regions(next.reserved)) {
        const ReservedRegion& a = next.reserved[pair->first];
        const ReservedRegion& b = next.reserved[pair->second];
        return unexpected(fmt::format("host reserved regions {:#x}-{:#x} and {:#x}-{:#x} of endpoint {:#x} overlap with "
                                      "different types",
                                      a.range.first, a.range.last, b.range.first, b.range.last, endpoint.value()));
    }
    // Under a QEMU profile the narrowed mask is no property QEMU could be given, only what VFIO made
    // of it: the release's own checks (qemu_release_problems()) are for its properties, not run here.
    config = std::move(next);
    return notes;
}

} // namespace viommu::hw::virtio_iommu
