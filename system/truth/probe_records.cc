#include "system/truth/probe_records.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace viommu::system::truth {
namespace {

constexpr std::string_view kBegin = "VIOMMU-TRUTH-BEGIN";
constexpr std::string_view kEnd = "VIOMMU-TRUTH-END";

std::optional<int> optional_int(const nlohmann::json& j)
{
    return j.is_null() ? std::nullopt : std::optional<int>(j.get<int>());
}

void add_record(ProbeOutput& out, const nlohmann::json& j)
{
    const std::string kind = j.at("kind").get<std::string>();
    if (kind == "pci") {
        out.pci.push_back({j.at("bdf").get<std::string>(), j.at("vendor").get<std::string>(),
                           j.at("device").get<std::string>(), j.at("driver").get<std::string>(),
                           optional_int(j.at("group"))});
    } else if (kind == "group") {
        out.groups.push_back({j.at("group").get<int>(), j.at("type").get<std::string>(),
                              j.at("reserved_regions").get<std::vector<std::string>>()});
    } else if (kind == "virtio") {
        VirtioRecord v{j.at("name").get<std::string>(), j.at("device_id").get<std::string>(),
                       j.at("pci").get<std::string>(), j.at("driver").get<std::string>(), 0};
        const std::string bits = j.at("features").get<std::string>();
        for (size_t i = 0; i < bits.size() && i < 64; ++i) {
            if (bits[i] == '1')
                v.features |= uint64_t{1} << i;
            else if (bits[i] != '0')
                throw std::invalid_argument(fmt::format("features of {} are not a bit string", v.name));
        }
        out.virtio.push_back(std::move(v));
    } else if (kind == "vfio") {
        VfioRecord v{j.at("bdf").get<std::string>(), j.at("driver").get<std::string>(), {}};
        for (const nlohmann::json& s : j.at("steps"))
            v.steps.push_back({s.at("step").get<std::string>(), s.at("errno").get<int>()});
        out.vfio.push_back(std::move(v));
    } else if (kind == "kmsg") {
        out.kernel_log.push_back(j.at("text").get<std::string>());
    } else {
        throw std::invalid_argument("unknown kind \"" + kind + "\"");
    }
}

// The viommu-boot stage a probe step belongs to.
std::string stage_of(const std::string& step)
{
    if (step == "unbind" || step == "driver_override" || step == "drivers_probe")
        return "bind vfio-pci";
    if (step == "open group" || step == "VFIO_GROUP_GET_STATUS")
        return "open /dev/vfio/GROUP";
    return step; // "open /dev/vfio/vfio", the VFIO_* ioctls: named alike
}

// The errno of vfio-pci's failed probe of bdf, from the kernel log: really_probe()'s warning, which
// Debian's 6.12 words "vfio-pci BDF: probe with driver vfio-pci failed with error -22" and its 6.1
// "vfio-pci: probe of BDF failed with error -22" (both seen in the recordings).
int failed_probe_errno(const ProbeOutput& out, const std::string& bdf)
{
    const std::string needles[] = {"vfio-pci " + bdf + ": probe with driver vfio-pci failed with error -",
                                   "vfio-pci: probe of " + bdf + " failed with error -"};
    for (const std::string& line : out.kernel_log)
        for (const std::string& needle : needles)
            if (const size_t at = line.find(needle); at != std::string::npos)
                return std::atoi(line.c_str() + at + needle.size());
    return 0;
}

VfioOutcome vfio_outcome(const ProbeOutput& out, const VfioRecord& r)
{
    for (const VfioStep& s : r.steps)
        if (s.error != 0)
            return {false, stage_of(s.step), s.error};
    if (r.driver != "vfio-pci")
        return {false, "bind vfio-pci", failed_probe_errno(out, r.bdf)};
    if (r.steps.empty() || r.steps.back().step != "VFIO_GROUP_GET_DEVICE_FD")
        return {false, stage_of(r.steps.empty() ? "drivers_probe" : r.steps.back().step), 0};
    return {true, "", 0};
}

} // namespace

Expected<ProbeOutput, std::string> parse_probe_output(std::string_view console)
{
    const size_t begin = console.find(kBegin);
    if (begin == std::string_view::npos)
        return unexpected(std::string("no probe output: the console has no VIOMMU-TRUTH-BEGIN line"));
    const size_t end = console.find(kEnd, begin);
    if (end == std::string_view::npos)
        return unexpected(std::string("the probe's output ends early: no VIOMMU-TRUTH-END line"));
    ProbeOutput out;
    std::string_view body = console.substr(begin + kBegin.size(), end - begin - kBegin.size());
    size_t line_no = static_cast<size_t>(std::count(console.begin(), console.begin() + begin, '\n')) + 1;
    while (!body.empty()) {
        const size_t nl = body.find('\n');
        std::string_view line = body.substr(0, nl);
        body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.remove_suffix(1);
        if (!line.empty()) {
            try {
                add_record(out, nlohmann::json::parse(line));
            } catch (const std::exception& e) {
                return unexpected(fmt::format("console line {}: not a probe record ({}): {}", line_no, e.what(),
                                              std::string(line.substr(0, 120))));
            }
        }
        ++line_no;
    }
    return out;
}

Observation observation_from_probe(const ProbeOutput& out)
{
    Observation o;
    std::map<int, const GroupRecord*> groups;
    for (const GroupRecord& g : out.groups)
        groups[g.group] = &g;
    std::map<std::string, const VirtioRecord*> virtio_of; // PCI function -> its virtio device
    for (const VirtioRecord& v : out.virtio) {
        virtio_of[v.pci] = &v;
        if (v.device_id == "0x0017") { // VIRTIO_ID_IOMMU
            o.iommu_device = v.name;
            o.iommu_bdf = v.pci;
            o.features = v.features;
            o.iommu_driver_ready = v.driver == "virtio_iommu";
        }
    }
    std::map<std::string, const VfioRecord*> vfio_of;
    for (const VfioRecord& v : out.vfio)
        vfio_of[v.bdf] = &v;
    for (const PciRecord& p : out.pci) {
        DeviceObservation d;
        d.bdf = p.bdf;
        d.driver = p.driver;
        if (const auto v = virtio_of.find(p.bdf); v != virtio_of.end() && !v->second->driver.empty())
            d.driver += "/" + v->second->driver;
        d.group = p.group;
        if (p.group)
            if (const auto g = groups.find(*p.group); g != groups.end()) {
                d.domain = g->second->type;
                d.reserved_regions = g->second->reserved_regions;
            }
        if (const auto v = vfio_of.find(p.bdf); v != vfio_of.end())
            d.vfio = vfio_outcome(out, *v->second);
        o.devices.push_back(std::move(d));
    }
    std::sort(o.devices.begin(), o.devices.end(),
              [](const DeviceObservation& a, const DeviceObservation& b) { return a.bdf < b.bdf; });
    o.kernel_version = kernel_release(out);
    return o;
}

std::string kernel_release(const ProbeOutput& out)
{
    constexpr std::string_view kBanner = "Linux version ";
    for (const std::string& line : out.kernel_log)
        if (line.rfind(kBanner, 0) == 0) {
            const size_t end = line.find(' ', kBanner.size());
            return line.substr(kBanner.size(), end == std::string::npos ? std::string::npos : end - kBanner.size());
        }
    return "";
}

} // namespace viommu::system::truth
