#include "tests/fuzz/scenario_script.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <linux/virtio_iommu.h>

#include "system/replay/script.h"
#include "hw/virtio-iommu/config.h"
#include "tools/common/iommu_options.h"

namespace viommu::fuzz {

namespace {

std::string id_set(const std::vector<EndpointRange>& ranges, uint32_t mask)
{
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (!((mask >> i) & 1))
            continue;
        const EndpointRange& r = ranges[i];
        parts.push_back(r.first == r.last ? fmt::format("{:#x}", r.first) : fmt::format("{:#x}-{:#x}", r.first, r.last));
    }
    return fmt::format("{}", fmt::join(parts, ","));
}

std::string map_flags(uint32_t flags)
{
    std::string out;
    if (flags & VIRTIO_IOMMU_MAP_F_READ)
        out += 'r';
    if (flags & VIRTIO_IOMMU_MAP_F_WRITE)
        out += 'w';
    if (flags & VIRTIO_IOMMU_MAP_F_MMIO)
        out += 'm';
    return out.empty() ? "-" : out;
}

// The typed line for a request, or a raw one when the typed words cannot say it.
std::string request_line(const std::vector<uint8_t>& bytes, uint32_t writable, uint32_t probe_size)
{
    constexpr uint32_t kMapFlags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE | VIRTIO_IOMMU_MAP_F_MMIO;
    if (const auto t = as_typed(bytes, writable, probe_size)) {
        switch (t->type) {
        case VIRTIO_IOMMU_T_ATTACH:
            if (t->flags == 0 || t->flags == VIRTIO_IOMMU_ATTACH_F_BYPASS)
                return fmt::format("attach {} {}{}", t->domain, t->endpoint, t->flags ? " bypass" : "");
            break;
        case VIRTIO_IOMMU_T_DETACH: return fmt::format("detach {} {}", t->domain, t->endpoint);
        case VIRTIO_IOMMU_T_MAP:
            if (!(t->flags & ~kMapFlags))
                return fmt::format("map {} {:#x} {:#x} {:#x} {}", t->domain, t->virt_start, t->virt_end, t->phys_start,
                                   map_flags(t->flags));
            break;
        case VIRTIO_IOMMU_T_UNMAP: return fmt::format("unmap {} {:#x} {:#x}", t->domain, t->virt_start, t->virt_end);
        default: return fmt::format("probe {}", t->endpoint);
        }
    }
    // `raw` needs at least one readable byte to write down.
    if (bytes.empty())
        return fmt::format("# a request with no device-readable part and {} writable bytes: a script cannot send it",
                           writable);
    return fmt::format("raw {:02x} in={}", fmt::join(bytes, ""), writable);
}

DeviceChoice device_from(const hw::virtio_iommu::IommuConfig& c, uint64_t declined, uint32_t event_buffers)
{
    DeviceChoice d;
    d.endpoints.clear();
    for (const hw::virtio_iommu::EndpointRange& r : c.endpoints)
        d.endpoints.push_back({r.first.value(), r.last.value()});
    d.granule_log2 = static_cast<unsigned>(__builtin_ctzll(c.page_size_mask));
    d.aw_bits = c.input_end == UINT64_MAX ? 64 : static_cast<unsigned>(64 - __builtin_clzll(c.input_end));
    d.domain_first = c.domain_start;
    d.domain_last = c.domain_end;
    d.boot_bypass = c.boot_bypass;
    d.legacy_bypass = c.legacy_bypass;
    d.probe_size = c.probe_size;
    for (const hw::virtio_iommu::ReservedRegion& r : c.reserved) {
        ReservedChoice choice{0, r.range.first.value(), r.range.last.value(), r.type == hw::virtio_iommu::ResvMemSubtype::kMsi};
        // A region's endpoints must be whole endpoint ranges of the device: that is what a scenario holds.
        for (const hw::virtio_iommu::EndpointRange& e : r.endpoints)
            for (std::size_t i = 0; i < c.endpoints.size(); ++i)
                if (c.endpoints[i].first == e.first && c.endpoints[i].last == e.last)
                    choice.endpoint_mask |= 1u << i;
        d.reserved.push_back(choice);
    }
    d.withheld = c.withheld;
    d.declined = declined;
    d.max_domains = c.limits.max_domains;
    d.max_mappings = c.limits.max_mappings_per_domain;
    d.max_endpoints = c.limits.max_attached_endpoints;
    d.event_buffers = event_buffers;
    return d;
}

Expected<DeviceChoice, std::string> device_from_args(const std::vector<std::string>& args)
{
    // The options viommu-replay takes, parsed the way it parses them.
    CLI::App app;
    tools::IommuOptions options;
    tools::add_iommu_options(app, options);
    std::vector<std::string> decline;
    uint32_t event_buffers = 64;
    app.add_option("--decline", decline)->allow_extra_args(false);
    app.add_option("--event-buffers", event_buffers);
    std::vector<std::string> reversed(args.rbegin(), args.rend()); // CLI11 takes them last first
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        return unexpected(std::string(e.what()));
    }
    auto config = tools::build_iommu_config(options);
    if (!config)
        return unexpected(config.error());
    uint64_t declined = 0;
    for (const std::string& name : decline) {
        auto bit = hw::virtio_iommu::feature_by_name(name);
        if (!bit)
            return unexpected(bit.error());
        declined |= uint64_t{1} << *bit;
    }
    return device_from(*config, declined, event_buffers);
}

} // namespace

std::vector<std::string> replay_args(const DeviceChoice& d)
{
    const uint32_t all = (1u << d.endpoints.size()) - 1;
    std::vector<std::string> a = {"--endpoints", id_set(d.endpoints, all),
                                  "--granule", std::to_string(uint64_t{1} << d.granule_log2),
                                  "--aw-bits", std::to_string(d.aw_bits),
                                  "--domain-range", fmt::format("{}-{}", d.domain_first, d.domain_last),
                                  "--boot-bypass", d.boot_bypass ? "on" : "off",
                                  "--probe-size", std::to_string(d.probe_size),
                                  "--platform", "arm"}; // every reserved region is listed below
    for (const ReservedChoice& r : d.reserved) {
        const std::string eps = r.endpoint_mask ? id_set(d.endpoints, r.endpoint_mask) + ":" : "";
        a.push_back("--resv");
        a.push_back(fmt::format("{}{:#x}-{:#x}:{}", eps, r.start, r.end, r.msi ? "msi" : "reserved"));
    }
    for (std::size_t i = 0; i < kFeatureNames.size(); ++i) {
        const uint64_t bit = uint64_t{1} << feature_bit(i);
        if (d.withheld & bit) {
            a.push_back("--no-feature");
            a.push_back(kFeatureNames[i]);
        }
        if (d.declined & bit) {
            a.push_back("--decline");
            a.push_back(kFeatureNames[i]);
        }
    }
    if (d.legacy_bypass)
        a.push_back("--legacy-bypass");
    a.insert(a.end(), {"--max-domains", std::to_string(d.max_domains), "--max-mappings", std::to_string(d.max_mappings),
                       "--max-endpoints", std::to_string(d.max_endpoints), "--event-buffers",
                       std::to_string(d.event_buffers)});
    return a;
}

std::string render_script(const Scenario& s, std::size_t count)
{
    std::string out;
    for (std::size_t i = 0; i < s.actions.size() && i < count; ++i) {
        const Action& action = s.actions[i];
        if (const auto* send = std::get_if<SendAction>(&action)) {
            if (send->requests.size() > 1)
                out += fmt::format("# {} requests with one notification:\n", send->requests.size());
            if (send->segment)
                out += fmt::format("# (sent in descriptors of at most {} bytes)\n", send->segment);
            for (const auto& req : send->requests)
                out += request_line(req, send->writable, s.device.probe_size) + "\n";
        } else if (const auto* dma = std::get_if<DmaAction>(&action)) {
            out += fmt::format("dma {} {:#x} {}", dma->endpoint, dma->iova, dma->write ? 'w' : 'r');
            out += dma->len == 1 ? "\n" : fmt::format(" {:#x}\n", dma->len);
        } else if (const auto* bypass = std::get_if<BypassAction>(&action)) {
            out += fmt::format("bypass {}\n", bypass->value);
        } else {
            out += "reset\n";
        }
    }
    return out;
}

std::string describe_scenario(const Scenario& s, std::size_t count)
{
    return fmt::format("viommu-replay {}\n{}", fmt::join(replay_args(s.device), " "), render_script(s, count));
}

Expected<Scenario, std::string> scenario_from_script(std::string_view script, const std::vector<std::string>& args)
{
    auto device = device_from_args(args);
    if (!device)
        return unexpected("options: " + device.error());
    const auto steps = system::replay::parse_script(script);
    if (!steps)
        return unexpected(fmt::format("line {}: {}", steps.error().line, steps.error().message));
    Scenario s{*device, {}};
    const uint32_t probe_size = s.device.probe_size;
    auto send = [&](const TypedRequest& t) {
        s.actions.push_back(SendAction{{request_bytes(t)}, standard_writable(t.type, probe_size), 0});
    };
    for (const system::replay::Step& step : *steps) {
        std::visit(
            [&](const auto& op) {
                using T = std::decay_t<decltype(op)>;
                if constexpr (std::is_same_v<T, system::replay::AttachOp>)
                    send({VIRTIO_IOMMU_T_ATTACH, op.domain, op.endpoint, op.bypass ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0u});
                else if constexpr (std::is_same_v<T, system::replay::DetachOp>)
                    send({VIRTIO_IOMMU_T_DETACH, op.domain, op.endpoint});
                else if constexpr (std::is_same_v<T, system::replay::MapOp>)
                    send({VIRTIO_IOMMU_T_MAP, op.domain, 0, op.flags, op.virt_start, op.virt_end, op.phys_start});
                else if constexpr (std::is_same_v<T, system::replay::UnmapOp>)
                    send({VIRTIO_IOMMU_T_UNMAP, op.domain, 0, 0, op.virt_start, op.virt_end});
                else if constexpr (std::is_same_v<T, system::replay::ProbeOp>)
                    send({VIRTIO_IOMMU_T_PROBE, 0, op.endpoint});
                else if constexpr (std::is_same_v<T, system::replay::RawOp>)
                    s.actions.push_back(SendAction{{op.readable}, op.writable, 0});
                else if constexpr (std::is_same_v<T, system::replay::DmaOp>)
                    s.actions.push_back(DmaAction{op.endpoint, op.addr, op.write, op.len});
                else if constexpr (std::is_same_v<T, system::replay::BypassOp>)
                    s.actions.push_back(BypassAction{op.value});
                else
                    s.actions.push_back(ResetAction{});
            },
            step.op);
    }
    return s;
}

} // namespace viommu::fuzz
