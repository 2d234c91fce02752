#include "tools/common/iommu_options.h"

#include <fmt/format.h>

#include "base/checked.h"
#include "base/parse.h"
#include "hw/virtio-iommu/device.h"
#include "hw/virtio-iommu/wire.h"

namespace viommu::tools {

namespace {

// What the QEMU release of a profile cannot be told, option by option: under a QEMU profile each of
// these must keep QEMU's value, so that the device answers as that QEMU would.
Expected<void, std::string> check_qemu_options(const IommuOptions& o, const hw::virtio_iommu::QemuRelease& qemu)
{
    const IommuOptions defaults;
    const auto refuse = [&](std::string_view option, std::string_view why) {
        return unexpected(fmt::format("{}: the {} profile cannot take it: {}", option, o.device_profile, why));
    };
    const std::string release = fmt::format("QEMU {}", qemu.version);
    // (A granule that is no size at all is build_iommu_config()'s to refuse.)
    const auto granule = parse_size(o.granule);
    if (granule && !qemu.granule_property && *granule != *parse_size(defaults.granule))
        return refuse("--granule", release + " has no granule property; its granule is 4 KiB (TARGET_PAGE_MASK)");
    if (granule && qemu.granule_property && *granule != 4096 && *granule != 8192 && *granule != 16384 &&
        *granule != 65536)
        return refuse("--granule", release + "'s granule property takes 4k, 8k, 16k or 64k");
    if (!qemu.aw_bits_property && o.aw_bits != defaults.aw_bits)
        return refuse("--aw-bits", release + " has no aw-bits property; its input range is all 64 bits");
    if (qemu.aw_bits_property && o.aw_bits < 32)
        return refuse("--aw-bits", release + "'s aw-bits must be within [32,64]");
    // Compared as ranges: "0-4294967295" is QEMU's range as much as "0-0xffffffff" is.
    if (const auto domains = hw::virtio_iommu::parse_id_range(o.domain_range, UINT32_MAX);
        domains && (domains->first != 0 || domains->last != UINT32_MAX))
        return refuse("--domain-range", release + " has no such property; its domain range is 0-0xffffffff");
    if (o.probe_size != defaults.probe_size)
        return refuse("--probe-size", release + "'s probe_size is always 512 (VIOMMU_PROBE_SIZE)");
    if (o.legacy_bypass)
        return refuse("--legacy-bypass", release + " offers VIRTIO_IOMMU_F_BYPASS_CONFIG, never the legacy bypass");
    for (const std::string& name : o.no_feature)
        if (const auto bit = hw::virtio_iommu::feature_by_name(name); bit && *bit <= hw::virtio_iommu::wire::kFBypassConfig)
            return refuse("--no-feature " + name, release + " has no switch for its virtio-iommu features");
    for (const std::string& text : o.resv)
        if (const auto r = hw::virtio_iommu::parse_reserved_region(text); r && !r->endpoints.empty())
            return refuse("--resv " + text, release + "'s reserved-regions apply to every endpoint");
    if (o.max_domains != defaults.max_domains || o.max_mappings != defaults.max_mappings ||
        o.max_endpoints != defaults.max_endpoints || o.max_total_mappings != defaults.max_total_mappings)
        return refuse("--max-domains, --max-mappings, --max-endpoints, --max-total-mappings",
                      release + " has no such limits (the device grows as long as the host has memory)");
    return {};
}

} // namespace

void add_device_profile_option(CLI::App& app, std::string& name)
{
    std::string help = "Whose answers the device gives: ";
    for (const hw::virtio_iommu::DeviceProfile& p : hw::virtio_iommu::device_profiles())
        help += fmt::format("{}{} ({})", &p == hw::virtio_iommu::device_profiles().data() ? "" : "; ",
                            p.behaviour.profile, p.summary);
    app.add_option("--device-profile", name, help)
        ->check(CLI::Validator(
            [](const std::string& value) -> std::string {
                if (hw::virtio_iommu::find_device_profile(value))
                    return {};
                return fmt::format("unknown device profile '{}' (known: {})", value,
                                   hw::virtio_iommu::device_profile_names());
            },
            "PROFILE"))
        ->capture_default_str();
}

const hw::virtio_iommu::DeviceBehaviour& device_behaviour(const std::string& name)
{
    return hw::virtio_iommu::find_device_profile(name)->behaviour; // checked by the option's validator
}

void add_iommu_options(CLI::App& app, IommuOptions& o)
{
    auto* g = app.add_option_group("Device (QEMU -device virtio-iommu properties)");
    add_device_profile_option(*g, o.device_profile);
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
    g->add_option("--packed", o.packed, "Offer packed virtqueues (VIRTIO_F_RING_PACKED), as QEMU's packed=on")
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
    c.use_profile(device_behaviour(o.device_profile));
    if (c.behaviour.qemu) {
        if (auto ok = check_qemu_options(o, *c.behaviour.qemu); !ok)
            return unexpected(ok.error());
    }
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
    c.packed = o.packed == "on";
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
    if (!c.behaviour.qemu) // a QEMU profile keeps QEMU's (use_profile())
        c.limits = {o.max_domains, o.max_mappings, o.max_endpoints, o.max_total_mappings};
    if (const auto problems = c.problems(); !problems.empty())
        return unexpected(problems.front());
    return c;
}

} // namespace viommu::tools
