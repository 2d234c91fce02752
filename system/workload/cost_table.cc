#include "system/workload/cost_table.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "system/workload/pattern.h"

namespace viommu::system::workload {

double CostTable::io(std::string_view pattern) const
{
    const auto it = io_ns.find(pattern);
    return it == io_ns.end() ? 0 : it->second;
}

namespace {

Expected<double, std::string> cost(const nlohmann::json& value, const std::string& where)
{
    // A bool is not a number here, although nlohmann would convert it.
    if (!value.is_number())
        return unexpected(fmt::format("{}: {} is not a number", where, value.dump()));
    const double v = value.get<double>();
    if (!std::isfinite(v) || v < 0)
        return unexpected(fmt::format("{}: {} is not a cost (a number of nanoseconds, 0 or more)", where, value.dump()));
    return v;
}

} // namespace

Expected<CostTable, std::string> parse_cost_table(std::string_view text)
{
    const nlohmann::json doc = nlohmann::json::parse(std::string(text), nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return unexpected(std::string("the cost table must be one JSON object"));
    CostTable t;
    const std::map<std::string, double CostTable::*> fields = {
        {"kick_ns", &CostTable::kick_ns},          {"sync_ns", &CostTable::sync_ns},
        {"map_request_ns", &CostTable::map_request_ns}, {"unmap_request_ns", &CostTable::unmap_request_ns},
        {"iotlb_flush_ns", &CostTable::iotlb_flush_ns}, {"dma_call_ns", &CostTable::dma_call_ns}};
    for (const auto& [key, value] : doc.items()) {
        if (const auto f = fields.find(key); f != fields.end()) {
            auto v = cost(value, key);
            if (!v)
                return unexpected(v.error());
            t.*(f->second) = *v;
            continue;
        }
        if (key != "io_ns") {
            std::string known;
            for (const auto& [name, _] : fields)
                known += name + ", ";
            return unexpected(fmt::format("unknown key \"{}\" (known: {}io_ns)", key, known));
        }
        if (!value.is_object())
            return unexpected(std::string("io_ns: must be an object of pattern names and nanoseconds"));
        for (const auto& [pattern, ns] : value.items()) {
            if (!find_pattern(pattern))
                return unexpected(fmt::format("io_ns: unknown pattern \"{}\" (viommu-boot --workload help)", pattern));
            auto v = cost(ns, "io_ns." + pattern);
            if (!v)
                return unexpected(v.error());
            t.io_ns[pattern] = *v;
        }
    }
    return t;
}

} // namespace viommu::system::workload
