#include "system/replay/runner.h"

#include <linux/virtio_iommu.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "guest-model/virtio-iommu/probe_properties.h"
#include "hw/virtio-iommu/status.h"

namespace viommu::system::replay {

using Json = nlohmann::ordered_json;

namespace {

void put_status(Json& j, const Expected<guest::virtio_iommu::IommuReply, std::string>& reply, std::size_t tail_offset)
{
    if (!reply) {
        j["error"] = reply.error();
        return;
    }
    const auto raw = reply->status_at(tail_offset);
    if (!raw) {
        j["used_len"] = reply->used_len;
        return;
    }
    const auto name = hw::virtio_iommu::status_name(*raw);
    j["status"] = name ? std::string(*name) : "0x" + fmt::format("{:02x}", *raw);
}

Json properties(const std::vector<uint8_t>& written, std::size_t probe_size)
{
    // The list as the codec types it: up to a NONE type, the end of probe_size or an overrunning property.
    Json list = Json::array();
    for (const guest::virtio_iommu::probe::Property& property : guest::virtio_iommu::probe::parse(std::span(written).first(probe_size)).list) {
        Json p;
        // Every kind of property the codec types has its own output: a new one does not compile
        // until it is given one here.
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, guest::virtio_iommu::probe::ResvMem>) {
                    p["type"] = "resv_mem";
                    p["subtype"] = v.subtype == VIRTIO_IOMMU_RESV_MEM_T_MSI        ? "msi"
                                   : v.subtype == VIRTIO_IOMMU_RESV_MEM_T_RESERVED ? "reserved"
                                                                                   : "unknown";
                    p["start"] = v.start;
                    p["end"] = v.end;
                } else {
                    static_assert(std::is_same_v<T, guest::virtio_iommu::probe::Unparsed>);
                    p["type"] = v.type;
                    p["length"] = v.length;
                }
            },
            property);
        list.push_back(p);
    }
    return list;
}

Json fault_event(const guest::virtio_iommu::FaultEvent& f)
{
    Json e;
    e["event"] = "fault";
    e["reason"] = f.reason == guest::virtio_iommu::FaultReason::kDomain    ? "domain"
                  : f.reason == guest::virtio_iommu::FaultReason::kMapping ? "mapping"
                                                             : "unknown";
    Json flags = Json::array();
    if (f.read())
        flags.push_back("read");
    if (f.write())
        flags.push_back("write");
    if (f.has_address())
        flags.push_back("address");
    e["flags"] = flags;
    e["endpoint"] = f.endpoint;
    e["address"] = f.address;
    return e;
}

} // namespace

Runner::Runner(ReplayOptions options) : options_(std::move(options)), target_(std::make_unique<DeviceTarget>(options_.device))
{
}

Runner::Runner(ReplayOptions options, std::unique_ptr<Target> target)
    : options_(std::move(options)), target_(std::move(target))
{
}

Expected<void, std::string> Runner::start()
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~options_.decline;
    o.event_buffers = options_.event_buffers;
    return target_->client().bring_up(o);
}

bool Runner::gave_up()
{
    return target_->client().driver().status() & virtio::status::kNeedsReset;
}

StepOutput Runner::run_step(const Step& step)
{
    guest::virtio_iommu::IommuRequestClient& client = target_->client();
    StepOutput out;
    Json j;
    j["line"] = step.line;
    j["op"] = std::string(op_name(step.op));
    std::visit(
        [&](const auto& op) {
            using T = std::decay_t<decltype(op)>;
            if constexpr (std::is_same_v<T, AttachOp>) {
                put_status(j, client.send_attach(op.domain, op.endpoint, op.bypass ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0), 0);
            } else if constexpr (std::is_same_v<T, DetachOp>) {
                put_status(j, client.send_detach(op.domain, op.endpoint), 0);
            } else if constexpr (std::is_same_v<T, MapOp>) {
                put_status(j, client.send_map(op.domain, op.virt_start, op.virt_end, op.phys_start, op.flags), 0);
            } else if constexpr (std::is_same_v<T, UnmapOp>) {
                put_status(j, client.send_unmap(op.domain, op.virt_start, op.virt_end), 0);
            } else if constexpr (std::is_same_v<T, ProbeOp>) {
                const uint32_t probe_size = client.read_config().probe_size;
                const auto reply = client.send_probe(op.endpoint);
                put_status(j, reply, probe_size);
                if (reply && reply->status_at(probe_size) == VIRTIO_IOMMU_S_OK)
                    j["properties"] = properties(reply->written, probe_size);
            } else if constexpr (std::is_same_v<T, RawOp>) {
                // The tail is at the start of the writable part, except for PROBE, whose status is read
                // from the last four writable bytes (docs/replay.md, "raw").
                const bool probe = !op.readable.empty() && op.readable[0] == VIRTIO_IOMMU_T_PROBE;
                const std::size_t tail = probe && op.writable >= 4 ? op.writable - 4 : 0;
                put_status(j, client.send(op.readable, op.writable), tail);
            } else if constexpr (std::is_same_v<T, DmaOp>) {
                const DmaResult r = target_->dma(op);
                switch (r.kind) {
                case DmaResult::Kind::kNoEndpoint:
                    j["error"] = fmt::format("endpoint {} does not exist", op.endpoint);
                    return;
                case DmaResult::Kind::kNotComparable:
                    j["not_comparable"] = r.why;
                    return;
                case DmaResult::Kind::kOk:
                    j["result"] = "ok";
                    j["addr"] = r.addr;
                    break;
                case DmaResult::Kind::kFault:
                    j["result"] = "fault";
                    break;
                }
                for (const auto& f : client.take_faults())
                    out.events.push_back(fault_event(f).dump());
            } else if constexpr (std::is_same_v<T, BypassOp>) {
                client.write_bypass(op.value);
            } else {
                static_assert(std::is_same_v<T, ResetOp>);
                if (auto ok = start(); !ok)
                    j["error"] = ok.error();
            }
        },
        step.op);
    out.step = j.dump();
    return out;
}

bool Runner::run(const std::vector<Step>& steps, const std::function<void(const std::string&)>& out)
{
    bool answered = true;
    for (const Step& step : steps) {
        const StepOutput o = run_step(step);
        out(o.step);
        for (const std::string& e : o.events)
            out(e);
        if (gave_up())
            answered = false;
    }
    return answered;
}

} // namespace viommu::system::replay
