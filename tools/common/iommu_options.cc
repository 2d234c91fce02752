#include "tools/common/iommu_options.h"

#include <fmt/format.h>

#include "base/checked.h"
#include "base/parse.h"
#include "hw/virtio-iommu/device.h"

namespace viommu::tools {

void add_iommu_options(CLI::App& app, IommuOptions& o)
{
    auto* g = app.add_option_group("Device (QEMU -device virtio-iommu properties)");
    g->add_option("--endpoints", o.endpoints, "Endpoint IDs that exist (PCI requester IDs), e.g. 0x8,0x10-0x18")
        ->capture_default_str();
    g->add_option("--granule", o.granule, "Page granule: 4k, 8k, 16k, 64k or any power of two (page_size_mask)")
        ->capture_default_str();
    g->add_option("--aw-bits", o.aw_bits, "Input address width: input_range is [0, 2^N - 1]")
        ->check(CLI::Range(12u, 64u))
        ->capture_default_str();
    g->add_option("--domain-range", o.domain_range, "Domain IDs the device supports, FIRST-LAST")
        ->capture_default_str();
    g->add_option("--boot-bypass", o.boot_bypass, "Endpoints bypass the IOMMU until the driver takes over")
        ->check(CLI::IsMember({"on", "off"}))
        ->capture_default_str();
    g->add_option("--probe-size", o.probe_size, "Bytes of PROBE properties (a multiple of 8)")->capture_default_str();
    g->add_option("--platform", o.platform,
                  "x86 reserves the MSI window 0xfee00000-0xfeefffff for every endpoint, as QEMU's x86 machines "
                  "do; arm reserves nothing")
        ->check(CLI::IsMember({"x86", "arm"}))
        ->capture_default_str();
    g->add_option("--resv", o.resv,
                  "A reserved region, [ENDPOINTS:]START-END:reserved|msi, e.g. 0x8:0xfee00000-0xfeefffff:msi "
                  "(repeatable)")
        ->allow_extra_args(false);
    g->add_option("--no-feature", o.no_feature,
                  "Withhold a feature: input-range, domain-range, map-unmap, probe, mmio, bypass-config, "
                  "indirect-desc, event-idx, ring-reset (repeatable)")
        ->allow_extra_args(false);
    g->add_flag("--legacy-bypass", o.legacy_bypass, "Offer VIRTIO_IOMMU_F_BYPASS instead of BYPASS_CONFIG");
    g->add_option("--max-domains", o.max_domains, "Domains a guest may create")->capture_default_str();
    g->add_option("--max-mappings", o.max_mappings, "Mappings per domain")->capture_default_str();
    g->add_option("--max-endpoints", o.max_endpoints, "Endpoints attached at once")->capture_default_str();
    g->add_option("--max-total-mappings", o.max_total_mappings, "Mappings of all domains together")
        ->capture_default_str();
}

Expected<hw::virtio_iommu::IommuConfig, std::string> build_iommu_config(const IommuOptions& o)
{
    hw::virtio_iommu::IommuConfig c;
    auto endpoints = hw::virtio_iommu::parse_endpoint_set(o.endpoints, UINT32_MAX);
    if (!endpoints)
        return unexpected("--endpoints: " + endpoints.error());
    c.endpoints = *endpoints;

    const auto granule = parse_size(o.granule);
    if (!granule || !is_power_of_two(*granule))
        return unexpected(fmt::format("--granule: '{}' is not a power of two", o.granule));
    c.page_size_mask = ~(*granule - 1);

    c.input_start = 0;
    c.input_end = o.aw_bits == 64 ? UINT64_MAX : (uint64_t{1} << o.aw_bits) - 1;

    auto domains = hw::virtio_iommu::parse_id_range(o.domain_range, UINT32_MAX);
    if (!domains)
        return unexpected("--domain-range: " + domains.error());
    c.domain_start = domains->first;
    c.domain_end = domains->last;

    c.boot_bypass = o.boot_bypass == "on";
    c.probe_size = o.probe_size;
    c.legacy_bypass = o.legacy_bypass;
    if (o.platform == "x86")
        c.reserved.push_back(hw::virtio_iommu::x86_msi_region());
    for (const std::string& text : o.resv) {
        auto r = hw::virtio_iommu::parse_reserved_region(text);
        if (!r)
            return unexpected("--resv: " + r.error());
        c.reserved.push_back(*r);
    }
    for (const std::string& name : o.no_feature) {
        auto bit = hw::virtio_iommu::feature_by_name(name);
        if (!bit)
            return unexpected("--no-feature: " + bit.error());
        c.withheld |= virtio::feature(*bit);
    }
    c.limits = {o.max_domains, o.max_mappings, o.max_endpoints, o.max_total_mappings};
    if (const auto problems = c.problems(); !problems.empty())
        return unexpected(problems.front());
    return c;
}

} // namespace viommu::tools
