#include "system/truth/diff.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "guest-model/kernel/errno.h"

namespace viommu::system::truth {
namespace {

constexpr const char* kAbsent = "absent";

std::string vfio_text(const std::optional<VfioOutcome>& v)
{
    if (!v)
        return "-";
    if (v->admitted)
        return "admitted";
    const char* name = guest::kernel::errno_name(v->error);
    return fmt::format("{} {}", v->stage, name ? name : fmt::format("errno {}", v->error));
}

std::string group_text(const std::optional<int>& g)
{
    return g ? std::to_string(*g) : "-";
}

std::string regions_text(const std::vector<std::string>& regions)
{
    std::string out;
    for (const std::string& r : regions)
        out += (out.empty() ? "" : "; ") + r;
    return out.empty() ? "-" : out;
}

std::string order_text(const std::vector<uint32_t>& order)
{
    std::string out;
    for (uint32_t e : order)
        out += fmt::format("{}{:#06x}", out.empty() ? "" : " ", e);
    return out.empty() ? "-" : out;
}

std::string text_or_dash(const std::string& s)
{
    return s.empty() ? "-" : s;
}

class Differ {
public:
    void field(std::string name, std::string model, std::string real)
    {
        if (model != real)
            out.push_back({std::move(name), std::move(model), std::move(real), ""});
    }
    std::vector<Difference> out;
};

} // namespace

std::vector<Difference> diff(const Observation& model, const Observation& real)
{
    Differ d;
    d.field("iommu/driver_ready", model.iommu_driver_ready ? "yes" : "no", real.iommu_driver_ready ? "yes" : "no");
    d.field("iommu/device", text_or_dash(model.iommu_device), text_or_dash(real.iommu_device));
    d.field("iommu/bdf", text_or_dash(model.iommu_bdf), text_or_dash(real.iommu_bdf));
    d.field("iommu/features", fmt::format("{:#x}", model.features), fmt::format("{:#x}", real.features));

    std::map<std::string, std::pair<const DeviceObservation*, const DeviceObservation*>> devices;
    for (const DeviceObservation& m : model.devices)
        devices[m.bdf].first = &m;
    for (const DeviceObservation& r : real.devices)
        devices[r.bdf].second = &r;
    for (const auto& [bdf, pair] : devices) {
        const auto [m, r] = pair;
        const std::string at = "devices/" + bdf;
        if (!m || !r) {
            d.field(at, m ? "present" : kAbsent, r ? "present" : kAbsent);
            continue;
        }
        d.field(at + "/driver", text_or_dash(m->driver), text_or_dash(r->driver));
        d.field(at + "/group", group_text(m->group), group_text(r->group));
        d.field(at + "/domain", text_or_dash(m->domain), text_or_dash(r->domain));
        d.field(at + "/reserved_regions", regions_text(m->reserved_regions), regions_text(r->reserved_regions));
        d.field(at + "/vfio", vfio_text(m->vfio), vfio_text(r->vfio));
    }

    std::map<uint32_t, std::pair<const EndpointRequests*, const EndpointRequests*>> endpoints;
    for (const EndpointRequests& m : model.endpoints)
        endpoints[m.endpoint].first = &m;
    for (const EndpointRequests& r : real.endpoints)
        endpoints[r.endpoint].second = &r;
    const EndpointRequests none{};
    for (const auto& [id, pair] : endpoints) {
        const EndpointRequests& m = pair.first ? *pair.first : none;
        const EndpointRequests& r = pair.second ? *pair.second : none;
        const std::string at = fmt::format("endpoints/{:#06x}", id);
        d.field(at + "/probes", std::to_string(m.probes), std::to_string(r.probes));
        d.field(at + "/attaches", std::to_string(m.attaches), std::to_string(r.attaches));
        d.field(at + "/detaches", std::to_string(m.detaches), std::to_string(r.detaches));
        d.field(at + "/maps", std::to_string(m.maps), std::to_string(r.maps));
        d.field(at + "/unmaps", std::to_string(m.unmaps), std::to_string(r.unmaps));
        d.field(at + "/faults", std::to_string(m.faults), std::to_string(r.faults));
    }
    d.field("attach_order", order_text(model.attach_order), order_text(real.attach_order));
    return std::move(d.out);
}

Expected<std::vector<KnownDifference>, std::string> parse_known_differences(std::string_view text)
{
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        if (!j.is_array())
            return unexpected(std::string("known differences: not an array"));
        std::vector<KnownDifference> out;
        for (size_t i = 0; i < j.size(); ++i) {
            KnownDifference k{j[i].at("recording").get<std::string>(), j[i].at("field").get<std::string>(),
                              j[i].at("reason").get<std::string>()};
            if (k.recording.empty() || k.field.empty() || k.reason.empty())
                return unexpected(fmt::format("known differences: entry {}: recording, field and reason must "
                                              "not be empty", i));
            out.push_back(std::move(k));
        }
        return out;
    } catch (const nlohmann::json::exception& e) {
        return unexpected(fmt::format("known differences: {}", e.what()));
    }
}

void mark_known(std::vector<Difference>& differences, const std::vector<KnownDifference>& known,
                std::string_view recording)
{
    const std::string rec(recording);
    for (Difference& d : differences)
        for (const KnownDifference& k : known)
            if (fnmatch(k.recording.c_str(), rec.c_str(), 0) == 0 && fnmatch(k.field.c_str(), d.field.c_str(), 0) == 0) {
                d.known = k.reason;
                break;
            }
}

std::string render_table(const std::vector<Difference>& differences)
{
    if (differences.empty())
        return "";
    size_t wf = 5, wm = 5, wr = 4;
    for (const Difference& d : differences) {
        wf = std::max(wf, d.field.size());
        wm = std::max(wm, d.model.size());
        wr = std::max(wr, d.real.size());
    }
    std::string out = fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", "FIELD", wf, "MODEL", wm, "REAL", wr, "KNOWN");
    for (const Difference& d : differences)
        out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", d.field, wf, d.model, wm, d.real, wr,
                           d.known.empty() ? "-" : d.known);
    return out;
}

nlohmann::ordered_json differences_json(const Observation& model, const std::vector<Difference>& differences)
{
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    bool unknown = false;
    for (const Difference& d : differences) {
        unknown = unknown || d.known.empty();
        list.push_back({{"field", d.field},
                        {"model", d.model},
                        {"real", d.real},
                        {"known", d.known.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.known)}});
    }
    return {{"schema", 1}, {"guest", model.guest}, {"kernel", model.kernel}, {"agree", !unknown},
            {"differences", std::move(list)}};
}

} // namespace viommu::system::truth
