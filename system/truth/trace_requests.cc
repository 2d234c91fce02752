#include "system/truth/trace_requests.h"

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace viommu::system::truth {
namespace {

// The value after "key=" (QEMU writes "dev= 16," with a space), as a decimal number.
std::optional<uint64_t> field(std::string_view args, std::string_view key)
{
    for (size_t at = args.find(key); at != std::string_view::npos; at = args.find(key, at + 1)) {
        if (at > 0 && args[at - 1] != ' ')
            continue; // "endpoint=" inside "fault_endpoint=" is not it
        size_t p = at + key.size();
        if (p >= args.size() || args[p] != '=')
            continue;
        ++p;
        while (p < args.size() && args[p] == ' ')
            ++p;
        uint64_t value = 0;
        auto [end, ec] = std::from_chars(args.data() + p, args.data() + args.size(), value);
        if (ec != std::errc())
            return std::nullopt;
        return value;
    }
    return std::nullopt;
}

class Tally {
public:
    void line(std::string_view text)
    {
        const size_t at = text.find("virtio_iommu_");
        if (at == std::string_view::npos)
            return;
        text.remove_prefix(at);
        const size_t space = text.find(' ');
        const std::string_view name = text.substr(0, space);
        const std::string_view args = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
        if (name == "virtio_iommu_fill_resv_property") {
            // QEMU shows a PROBE only by its properties: one line per region; a new PROBE starts when the
            // endpoint changes or a request intervenes. viommu's device traces the PROBE itself (below),
            // and its property lines, QEMU's too, are not counted again.
            if (traces_probes_)
                return;
            if (const auto ep = field(args, "dev"); ep && (!last_resv_ || *last_resv_ != *ep)) {
                ++at_(static_cast<uint32_t>(*ep)).probes;
                last_resv_ = static_cast<uint32_t>(*ep);
            }
            return;
        }
        last_resv_.reset();
        if (name == "virtio_iommu_probe") {
            traces_probes_ = true;
            pending_probe_ = field(args, "endpoint");
        } else if (name == "virtio_iommu_request_done") {
            if (field(args, "type") == 5u && args.find("status=OK") != std::string_view::npos && pending_probe_)
                ++at_(static_cast<uint32_t>(*pending_probe_)).probes;
            pending_probe_.reset();
        } else if (name == "virtio_iommu_attach") {
            const auto domain = field(args, "domain");
            const auto ep = field(args, "endpoint");
            if (!domain || !ep)
                return;
            const auto e = static_cast<uint32_t>(*ep);
            ++at_(e).attaches;
            if (attached_once_.insert(e).second)
                attach_order_.push_back(e);
            for (auto& [d, members] : domains_)
                members.erase(e);
            domains_[*domain].insert(e);
        } else if (name == "virtio_iommu_detach") {
            if (const auto ep = field(args, "endpoint")) {
                const auto e = static_cast<uint32_t>(*ep);
                ++at_(e).detaches;
                for (auto& [d, members] : domains_)
                    members.erase(e);
            }
        } else if (name == "virtio_iommu_map" || name == "virtio_iommu_unmap") {
            if (const auto domain = field(args, "domain"))
                for (uint32_t e : domains_[*domain])
                    ++(name == "virtio_iommu_map" ? at_(e).maps : at_(e).unmaps);
        } else if (name == "virtio_iommu_report_fault") {
            if (const auto ep = field(args, "endpoint"))
                ++at_(static_cast<uint32_t>(*ep)).faults;
        }
    }

    TraceRequests result() const
    {
        TraceRequests r;
        for (const auto& [e, counts] : endpoints_)
            r.endpoints.push_back(counts);
        r.attach_order = attach_order_;
        return r;
    }

private:
    EndpointRequests& at_(uint32_t endpoint)
    {
        EndpointRequests& r = endpoints_[endpoint];
        r.endpoint = endpoint;
        return r;
    }

    std::map<uint32_t, EndpointRequests> endpoints_;
    std::map<uint64_t, std::set<uint32_t>> domains_; // domain -> endpoints attached to it now
    std::set<uint32_t> attached_once_;
    std::vector<uint32_t> attach_order_;
    std::optional<uint64_t> pending_probe_;
    std::optional<uint32_t> last_resv_;
    bool traces_probes_ = false; // viommu's own virtio_iommu_probe event seen: its lines count the PROBEs
};

} // namespace

TraceRequests trace_requests(std::string_view trace)
{
    Tally tally;
    while (!trace.empty()) {
        const size_t nl = trace.find('\n');
        tally.line(trace.substr(0, nl));
        trace.remove_prefix(nl == std::string_view::npos ? trace.size() : nl + 1);
    }
    return tally.result();
}

} // namespace viommu::system::truth
