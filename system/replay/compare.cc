#include "system/replay/compare.h"

#include <nlohmann/json.hpp>

namespace viommu::system::replay {

using Json = nlohmann::ordered_json;

std::vector<StepOutput> run_all(Runner& runner, const std::vector<Step>& steps)
{
    std::vector<StepOutput> out;
    out.reserve(steps.size());
    for (const Step& step : steps)
        out.push_back(runner.run_step(step));
    return out;
}

Comparison compare(const std::vector<Step>& steps, const std::vector<StepOutput>& ours,
                   const std::vector<StepOutput>& theirs, const std::vector<Deviation>& deviations,
                   std::string_view peer_name)
{
    Comparison c;
    for (std::size_t i = 0; i < steps.size() && i < ours.size() && i < theirs.size(); ++i) {
        const Json peer = Json::parse(theirs[i].step);
        if (peer.contains("not_comparable")) {
            ++c.not_comparable;
            Json j;
            j["line"] = steps[i].line;
            j["op"] = peer["op"];
            j["not_comparable"] = peer["not_comparable"];
            c.lines.push_back(j.dump());
            continue;
        }
        if (ours[i].step == theirs[i].step)
            continue;
        ++c.differences;
        Json j;
        j["line"] = steps[i].line;
        j["viommu"] = Json::parse(ours[i].step);
        j[std::string(peer_name)] = peer;
        std::optional<std::string> why;
        for (const Deviation& d : deviations)
            if (i < d.outputs.size() && d.outputs[i].step == theirs[i].step) {
                why = d.name;
                break;
            }
        if (!why)
            ++c.unexplained;
        j["explained_by"] = why ? *why : "unexplained";
        c.lines.push_back(j.dump());
    }
    return c;
}

} // namespace viommu::system::replay
