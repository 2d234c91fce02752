#include "system/workload/report_format.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/printable.h"

namespace viommu::system::workload {

namespace {

std::string mode_text(const EndpointResult& r)
{
    return r.domain.empty() ? std::string(mode_name(r.mode)) : fmt::format("{} ({})", mode_name(r.mode), r.domain);
}

std::string latency_text(const Report& report, const EndpointResult& r)
{
    const double added = r.added_ns(report.costs);
    const double io = report.costs.io(report.pattern);
    if (io <= 0)
        return fmt::format("+{:.1f} us", added / 1000);
    return fmt::format("{:.1f} us (x{:.2f})", (io + added) / 1000, (io + added) / io);
}

} // namespace

std::string render_text(const Report& report)
{
    const bool io_known = report.costs.io(report.pattern) > 0;
    std::string out = fmt::format(
        "\nworkload {}: events per I/O, averaged over each endpoint's I/Os; latency from the {} cost table{}\n\n",
        report.pattern, report.costs_from_file ? "given" : "built-in",
        io_known ? " (the I/O's own latency included, x: against no IOMMU)" : " (what the IOMMU adds; no io_ns given)");
    std::size_t wl = 5;
    for (const EndpointResult& r : report.endpoints)
        wl = std::max(wl, mode_text(r).size());
    out += fmt::format("{:<12}  {:<10}  {:<{}}  {:>4}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10}  {}\n", "DEVICE", "DRIVER",
                       "MODE", wl, "I/Os", "DMA MAPS", "MAP", "UNMAP", "KICKS", "SYNCS", "FLUSHES", "LATENCY");
    for (const EndpointResult& r : report.endpoints) {
        const Events& e = r.events;
        out += fmt::format("{:<12}  {:<10}  {:<{}}  {:>4}  {:>8g}  {:>8g}  {:>8g}  {:>8g}  {:>8g}  {:>10g}  {}\n", r.bdf,
                           r.driver, mode_text(r), wl, r.ios, r.per_io(e.dma_maps), r.per_io(e.map_requests),
                           r.per_io(e.unmap_requests), r.per_io(e.kicks), r.per_io(e.syncs), r.per_io(e.iotlb_flushes),
                           r.error.empty() ? latency_text(report, r) : "-");
        if (!r.error.empty())
            out += fmt::format("  {}: stopped: {}\n", r.bdf, printable(r.error));
    }
    if (report.endpoints.empty())
        out += "(no endpoint the pattern applies to)\n";
    for (const auto& [bdf, why] : report.skipped)
        out += fmt::format("{}: not run: {}\n", bdf, printable(why));
    return out;
}

nlohmann::json to_json(const Report& report)
{
    const CostTable& c = report.costs;
    nlohmann::json costs = {{"source", report.costs_from_file ? "file" : "built-in"},
                                    {"kick_ns", c.kick_ns},
                                    {"sync_ns", c.sync_ns},
                                    {"map_request_ns", c.map_request_ns},
                                    {"unmap_request_ns", c.unmap_request_ns},
                                    {"iotlb_flush_ns", c.iotlb_flush_ns},
                                    {"dma_call_ns", c.dma_call_ns},
                                    {"io_ns", nlohmann::json::object()}};
    for (const auto& [pattern, ns] : c.io_ns)
        costs["io_ns"][pattern] = ns;
    nlohmann::json endpoints = nlohmann::json::array();
    const double io = c.io(report.pattern);
    for (const EndpointResult& r : report.endpoints) {
        const Events& e = r.events;
        const double added = r.added_ns(c);
        endpoints.push_back({{"bdf", r.bdf},
                             {"label", r.label},
                             {"driver", r.driver},
                             {"mode", mode_name(r.mode)},
                             {"domain", r.domain},
                             {"ios", r.ios},
                             {"per_io",
                              {{"dma_maps", r.per_io(e.dma_maps)},
                               {"dma_unmaps", r.per_io(e.dma_unmaps)},
                               {"map_requests", r.per_io(e.map_requests)},
                               {"unmap_requests", r.per_io(e.unmap_requests)},
                               {"kicks", r.per_io(e.kicks)},
                               {"syncs", r.per_io(e.syncs)},
                               {"iotlb_flushes", r.per_io(e.iotlb_flushes)},
                               {"device_requests", r.per_io(e.device_requests)}}},
                             {"added_ns", added},
                             {"latency_ns", io + added},
                             {"ratio", io > 0 ? nlohmann::json((io + added) / io) : nlohmann::json()},
                             {"error", r.error}});
    }
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& [bdf, why] : report.skipped)
        skipped.push_back({{"bdf", bdf}, {"reason", why}});
    return {{"pattern", report.pattern}, {"costs", std::move(costs)}, {"endpoints", std::move(endpoints)},
            {"skipped", std::move(skipped)}};
}

} // namespace viommu::system::workload
