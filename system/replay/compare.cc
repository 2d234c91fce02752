#include "system/replay/compare.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "system/replay/departures.h"

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

std::vector<Deviation> departure_runs(const ReplayOptions& options, const hw::virtio_iommu::DeviceProfile& peer,
                                      const std::vector<Step>& steps)
{
    const auto run_with = [&](const hw::virtio_iommu::DeviceBehaviour& behaviour) {
        ReplayOptions o = options;
        o.device.behaviour = behaviour;
        Runner runner(o);
        // Our device came up with these options already; a departure does not change the bring-up.
        (void)runner.start();
        return run_all(runner, steps);
    };
    // These runs are how an answer is explained, not answers: the guest errors they log (a device giving
    // up, say) would read as the reported run's.
    struct Quiet {
        spdlog::level::level_enum was = spdlog::get_level();
        Quiet() { spdlog::set_level(spdlog::level::off); }
        ~Quiet() { spdlog::set_level(was); }
    } quiet;
    std::vector<Deviation> out;
    const auto each = departures(options.device.behaviour, peer.behaviour);
    for (const Departure& d : each)
        out.push_back({std::string(d.row), run_with(d.behaviour)});
    if (each.size() > 1)
        out.push_back({fmt::format("several departures of the {} profile together", peer.behaviour.profile),
                       run_with(with_all_departures(options.device.behaviour, peer.behaviour))});
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
