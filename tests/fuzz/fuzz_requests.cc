// fuzz-requests: a device configuration and a sequence of requests (structure-aware: type, fields,
// flags, buffer sizes, descriptor splits, batches; malformed ones too) sent through a real request
// queue to one virtio-iommu, interleaved with endpoint DMA, config.bypass writes and device resets
// (tests/fuzz/scenario.h). Besides staying free of sanitizer reports, the device must
//   - return every request while it is live, with used length 0 or a whole tail where it belongs;
//   - translate or fault consistently: one report per fault, only the spec's reasons and flags;
//   - keep its own state consistent: disjoint, sorted mappings inside the limits, no domain without
//     an endpoint, every attached endpoint found in its domain;
//   - restore its own snapshot into itself unchanged, at the end of the scenario (after every action,
//     the round trip of the whole device took two thirds of each input's time; shorter inputs put it
//     after the earlier states).
// Whether each answer is the right one is fuzz-differential's job.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <fmt/format.h>
#include <linux/virtio_iommu.h>

#include "hw/virtio-iommu/snapshot.h"
#include "tests/fuzz/device_run.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/scenario_script.h"

using namespace viommu;
using namespace viommu::fuzz;

namespace {

std::string check_replies(const SendAction& send, const Observation& o, uint32_t probe_size)
{
    for (std::size_t i = 0; i < o.replies.size(); ++i) {
        const Reply& r = o.replies[i];
        if (!r.returned) {
            if (!o.needs_reset)
                return fmt::format("request {} was not returned, yet the device does not need a reset", i);
            continue;
        }
        if (r.used_len == 0)
            continue;
        // A PROBE writes probe_size bytes of properties and its tail (§5.13.6.7), or, in a smaller buffer,
        // puts the tail in its last four bytes; every other tail is at the start.
        const bool probe = !send.requests[i].empty() && send.requests[i][0] == VIRTIO_IOMMU_T_PROBE;
        const uint32_t probe_len =
            static_cast<uint32_t>(std::min<uint64_t>(send.writable, uint64_t{probe_size} + sizeof(virtio_iommu_req_tail)));
        const uint32_t expected = probe ? probe_len : sizeof(virtio_iommu_req_tail);
        if (r.used_len != expected || r.written.size() != r.used_len)
            return fmt::format("request {}: used length {}, expected 0 or {}", i, r.used_len, expected);
        const uint8_t* tail = r.written.data() + r.used_len - sizeof(virtio_iommu_req_tail);
        if (tail[0] > VIRTIO_IOMMU_S_NOMEM || tail[1] || tail[2] || tail[3])
            return fmt::format("request {}: tail {:02x} {:02x} {:02x} {:02x}", i, tail[0], tail[1], tail[2], tail[3]);
    }
    return {};
}

std::string check_translations(const DmaAction& dma, const Observation& o)
{
    constexpr uint32_t kFlags = VIRTIO_IOMMU_FAULT_F_READ | VIRTIO_IOMMU_FAULT_F_WRITE | VIRTIO_IOMMU_FAULT_F_ADDRESS;
    for (const Translated& t : o.translated) {
        if (t.ok && (t.contiguous == 0 || !t.faults.empty()))
            return "a successful translation that covers nothing or reports a fault";
        if (t.faults.size() > 1)
            return fmt::format("{} fault reports for one access", t.faults.size());
        for (const FaultReport& f : t.faults) {
            if ((f.reason != VIRTIO_IOMMU_FAULT_R_DOMAIN && f.reason != VIRTIO_IOMMU_FAULT_R_MAPPING) ||
                (f.flags & ~kFlags) || f.endpoint != dma.endpoint || !f.reserved_zero)
                return fmt::format("fault report: reason {} flags {:#x} endpoint {}", f.reason, f.flags, f.endpoint);
        }
    }
    return {};
}

std::string check_state(hw::virtio_iommu::VirtioIommu& device, const DeviceChoice& choice)
{
    const hw::virtio_iommu::Domains& domains = device.domains();
    std::size_t endpoints = 0;
    for (const hw::virtio_iommu::VirtioIommuDomain* d : domains.all()) {
        if (d->endpoints.empty())
            return fmt::format("domain {} has no endpoint left", d->id);
        endpoints += d->endpoints.size();
        for (hw::virtio_iommu::EndpointId ep : d->endpoints)
            if (domains.domain_of(ep) != d)
                return fmt::format("endpoint {} is in domain {} but not found there", ep, d->id);
        if (!d->mappings.check_invariants())
            return fmt::format("domain {}: the mapping store is inconsistent", d->id);
        if (d->mappings.size() > choice.max_mappings || (d->bypass && !d->mappings.empty()))
            return fmt::format("domain {}: {} mappings", d->id, d->mappings.size());
        std::string problem;
        bool first = true;
        uint64_t last_end = 0;
        d->mappings.for_each([&](const hw::virtio_iommu::Mapping& m) {
            if (m.iova.last.value() < m.iova.first.value() || (!first && m.iova.first.value() <= last_end) ||
                m.phys_start + (m.iova.last.value() - m.iova.first.value()) < m.phys_start)
                problem = fmt::format("domain {}: mapping {:#x}-{:#x} overlaps or wraps", d->id, m.iova.first.value(), m.iova.last.value());
            first = false;
            last_end = m.iova.last.value();
        });
        if (!problem.empty())
            return problem;
    }
    if (endpoints != domains.attached_count() || domains.attached_count() > choice.max_endpoints ||
        domains.domain_count() > choice.max_domains)
        return fmt::format("{} domains, {} endpoints attached ({} in domains)", domains.domain_count(),
                           domains.attached_count(), endpoints);
    return {};
}

std::string check_snapshot(hw::virtio_iommu::VirtioIommu& device)
{
    const auto saved = hw::virtio_iommu::Snapshot::save(device);
    if (auto ok = hw::virtio_iommu::Snapshot::restore(device, saved); !ok)
        return "the device refuses its own snapshot: " + ok.error();
    if (hw::virtio_iommu::Snapshot::save(device) != saved)
        return "a snapshot restored into its own device saves differently";
    return {};
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const Scenario s = decode_scenario({data, size});
    DeviceRun run(s.device);
    for (std::size_t i = 0; i < s.actions.size(); ++i) {
        const Observation o = run.apply(s.actions[i]);
        std::string problem;
        if (const auto* send = std::get_if<SendAction>(&s.actions[i]))
            problem = check_replies(*send, o, s.device.probe_size);
        else if (const auto* dma = std::get_if<DmaAction>(&s.actions[i]))
            problem = check_translations(*dma, o);
        if (problem.empty())
            problem = check_state(run.device(), s.device);
        if (problem.empty() && i + 1 == s.actions.size())
            problem = check_snapshot(run.device());
        if (!problem.empty())
            finding(fmt::format("fuzz-requests: {} after the last line of\n{}\n{}", problem,
                                describe_scenario(s, i + 1), describe(o)));
    }
    return 0;
}
