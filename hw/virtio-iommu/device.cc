#include "hw/virtio-iommu/device.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "hw/virtio-iommu/probe.h"
#include "hw/virtio-iommu/trace_events.h"
#include "hw/virtio-iommu/wire.h"
#include "virtio/chain_io.h"

namespace viommu::hw::virtio_iommu {

namespace {

using virtio::feature;

virtio::FeatureBits offered_features(const IommuConfig& c)
{
    // What QEMU 7.2's virtio-iommu offers (its trace: features=0x10179000077, less the legacy-only bits):
    // the ring features, VERSION_1, RING_RESET, and every virtio-iommu feature but the legacy BYPASS.
    virtio::FeatureBits f = feature(virtio::kFVersion1) | feature(virtio::kFIndirectDesc) |
                            feature(virtio::kFEventIdx) | feature(virtio::kFRingReset) |
                            feature(wire::kFInputRange) | feature(wire::kFDomainRange) | feature(wire::kFMapUnmap) |
                            feature(wire::kFProbe) | feature(wire::kFMmio);
    // §5.13.3.2: "Devices SHOULD NOT offer both VIRTIO_IOMMU_F_BYPASS and VIRTIO_IOMMU_F_BYPASS_CONFIG."
    f |= feature(c.legacy_bypass ? wire::kFBypass : wire::kFBypassConfig);
    if (c.packed)
        f |= feature(virtio::kFRingPacked);
    if (c.x_noncoherent)
        f |= feature(wire::kFXNoncoherent); // experimental, not from any published spec
    return f & ~c.withheld;
}

// Without INPUT_RANGE or DOMAIN_RANGE the device has no such limit (§5.13.6: "If the feature is not
// offered, any domain value is valid" / mappings "span over the whole 64-bit address space").
IommuConfig effective(IommuConfig c)
{
    if (const auto problems = c.problems(); !problems.empty())
        throw std::invalid_argument("virtio-iommu: " + problems.front());
    const virtio::FeatureBits f = offered_features(c);
    if (!(f & feature(wire::kFInputRange))) {
        c.input_start = 0;
        c.input_end = UINT64_MAX;
    }
    if (!(f & feature(wire::kFDomainRange))) {
        c.domain_start = 0;
        c.domain_end = UINT32_MAX;
    }
    return c;
}

} // namespace

ReservedRegion x86_msi_region()
{
    return ReservedRegion{{}, IovaRange{Iova(0xfee00000), Iova(0xfeefffff)}, ResvMemSubtype::kMsi};
}

VirtioIommu::VirtioIommu(virtio::GuestMemory& mem, IommuConfig config)
    : DeviceBase("virtio-iommu", wire::kDeviceId, mem, offered_features(config), {kQueueSize, kQueueSize}),
      config_(effective(std::move(config))), domains_(config_), bypass_(config_.boot_bypass ? 1 : 0)
{
    trace_virtio_iommu_get_features(device_features());
}

RequestFeatures VirtioIommu::request_features() const
{
    return RequestFeatures::in_effect(driver_features(), config_.behaviour);
}

bool VirtioIommu::unattached_bypass() const
{
    // §5.13.6: with BYPASS_CONFIG offered, config.bypass decides, "even if the driver does not accept
    // the VIRTIO_IOMMU_F_BYPASS_CONFIG feature"; with the legacy F_BYPASS offered, only its negotiation
    // does. With neither, boot-bypass lets firmware and the early kernel do DMA until the driver has
    // negotiated (QEMU's boot-bypass always comes with BYPASS_CONFIG; this is its counterpart).
    if (device_features() & feature(wire::kFBypassConfig))
        return bypass_ != 0;
    if (device_features() & feature(wire::kFBypass))
        return negotiated(wire::kFBypass);
    return !features_ok() && config_.boot_bypass;
}

std::optional<EndpointAttachment> VirtioIommu::attachment(EndpointId endpoint) const
{
    const VirtioIommuDomain* d = domains_.domain_of(endpoint);
    if (!d)
        return std::nullopt;
    return EndpointAttachment{d->id, d->bypass};
}

Expected<std::vector<std::string>, std::string> VirtioIommu::plug_host_device(EndpointId endpoint,
                                                                             const HostIommuConstraints& host)
{
    // A new device's requester ID is in no domain; reserved regions of an attached endpoint would have
    // to be counted into its domain, which a device_add never needs.
    if (const auto attached = attachment(endpoint))
        return unexpected(fmt::format("endpoint {:#x} is attached to domain {}: no device can be plugged there",
                                      endpoint.value(), attached->domain.value()));
    const std::size_t regions_before = config_.reserved.size();
    auto notes = apply_host_constraints(config_, endpoint, host, granule_frozen());
    if (notes)
        domains_.index_reserved_from(regions_before);
    return notes;
}

void VirtioIommu::unplug_host_device(EndpointId endpoint)
{
    const auto learnt = [&](const ReservedRegion& r) { return r.from_host && r.applies_to(endpoint); };
    const auto before = config_.reserved.size();
    std::erase_if(config_.reserved, learnt);
    std::erase(config_.noncoherent_endpoints, endpoint);
    if (config_.reserved.size() != before)
        domains_.reindex_reserved();
}

void VirtioIommu::system_reset()
{
    trace_virtio_iommu_system_reset();
    reset();
    bypass_ = config_.boot_bypass ? 1 : 0;
}

void VirtioIommu::on_status_write(uint8_t requested)
{
    trace_virtio_iommu_device_status(requested);
}

void VirtioIommu::on_reset()
{
    // QEMU's virtio_reset() writes status 0 through the device's set_status() before its reset().
    trace_virtio_iommu_device_status(0);
    trace_virtio_iommu_device_reset();
    // §5.13.5: "When the device is reset, endpoints are not attached to any domain." config.bypass
    // "SHOULD NOT change on device reset" (§5.13.4.2).
    domains_.clear();
}

void VirtioIommu::add_endpoint(EndpointId endpoint)
{
    if (!config_.endpoint_exists(endpoint))
        config_.endpoints.push_back({endpoint, endpoint});
}

uint32_t VirtioIommu::config_size() const
{
    return sizeof(wire::Config);
}

void VirtioIommu::read_config(uint32_t offset, std::span<uint8_t> out) const
{
    wire::Config c{};
    c.page_size_mask = config_.page_size_mask;
    c.input_range.start = config_.input_start;
    c.input_range.end = config_.input_end;
    c.domain_range.start = config_.domain_start;
    c.domain_range.end = config_.domain_end;
    c.probe_size = config_.probe_size;
    c.bypass = bypass_;
    trace_virtio_iommu_get_config(c.page_size_mask, c.input_range.start, c.input_range.end,
                                  static_cast<int32_t>(c.domain_range.start), static_cast<int32_t>(c.domain_range.end),
                                  c.probe_size, c.bypass);
    std::memcpy(out.data(), reinterpret_cast<const uint8_t*>(&c) + offset, out.size());
}

void VirtioIommu::write_config(uint32_t offset, std::span<const uint8_t> in)
{
    // §5.13.4.1: the driver MAY write bypass with BYPASS_CONFIG negotiated, MUST NOT write anything else
    // and MUST NOT write a value other than 0 or 1. Writes to other fields are ignored; a forbidden
    // bypass write leaves the outcome open, and QEMU's set_config gives up on the driver.
    constexpr uint32_t kBypass = offsetof(wire::Config, bypass);
    const bool writes_bypass = offset <= kBypass && offset + in.size() > kBypass;
    const uint8_t value = writes_bypass ? in[kBypass - offset] : bypass_;
    if (value != bypass_) {
        if (!negotiated(wire::kFBypassConfig))
            return fail("cannot set config.bypass without VIRTIO_IOMMU_F_BYPASS_CONFIG");
        if (value > 1)
            return fail(fmt::format("invalid config.bypass value '{}'", value));
        bypass_ = value;
    }
    // QEMU's set_config() sees the whole space on every write and traces each one it accepts.
    trace_virtio_iommu_set_config(value);
}

void VirtioIommu::on_queue_notify(unsigned q)
{
    // Event buffers wait in their queue until a fault needs one.
    if (q != wire::kRequestQueue)
        return;
    std::optional<virtio::DescriptorChain> chain;
    while (pop(q, chain)) {
        const uint32_t written = handle(*chain);
        push(q, std::move(*chain), written);
    }
    notify_used(q);
}

Expected<void, Error> VirtioIommu::execute_or_give_up(const Request& request, uint64_t writable_bytes)
{
    // The guest's own growth is bounded by the limits (NOMEM); what is left is the host running out of
    // memory. The state keeps its invariants (the mapping store allocates before it changes anything),
    // but a request that needed several allocations may be half done, so the device gives up on the
    // driver, as QEMU's virtio_error() does, instead of serving from a state it cannot vouch for: the
    // driver sees NEEDS_RESET, and the request's buffer is not used (a device that gave up uses
    // nothing). A reset frees everything.
    try {
        return execute(request, writable_bytes);
    } catch (const std::bad_alloc&) {
        fail("out of host memory while serving a request");
        return unexpected(Error::kHostOutOfMemory);
    }
}

uint32_t VirtioIommu::handle(const virtio::DescriptorChain& chain)
{
    ++stats_.requests;
    // §5.13.6: "When the device fails to parse a request, for instance if a request is too small for its
    // type and the device cannot find the tail, ... it returns the buffers without writing to them."
    virtio::ChainReader in(chain);
    const auto head = in.read_obj<wire::ReqHead>(); // guest-controlled; its reserved bytes are ignored
    if (!head || chain.writable_bytes() < sizeof(wire::ReqTail)) {
        if (config_.behaviour.give_up_without_head_or_tail) {
            fail("virtio-iommu bad head/tail size"); // QEMU's words; the chain is never used
            return 0;
        }
        trace_virtio_iommu_request_unwritten(head ? head->type : 0, "no head or no room for the tail");
        return 0;
    }
    if (head->type == wire::kTProbe && config_.behaviour.short_probe_buffer != ShortProbeBuffer::kInval &&
        type_negotiated(wire::kTProbe, request_features()) &&
        chain.writable_bytes() < uint64_t{config_.probe_size} + sizeof(wire::ReqTail)) {
        // QEMU copies out probe_size + 4 bytes for every PROBE, whatever its status: 7.2 asserts that they
        // all fit, 9.1 answers DEVERR at the start of the buffer instead (QEMU has also copied what fitted
        // of its reply before that tail, bytes past the used length that we leave alone).
        if (config_.behaviour.short_probe_buffer == ShortProbeBuffer::kGiveUp) {
            fail("PROBE buffer smaller than probe_size and the tail (QEMU 7.2 aborts on it)");
            return 0;
        }
        virtio::ChainWriter out(chain);
        (void)out.write_obj(wire::ReqTail{static_cast<uint8_t>(Status::kDevErr), {}}); // room checked above
        return static_cast<uint32_t>(out.written());
    }
    const auto request = decode(head->type, in, request_features(), config_.behaviour);
    if (!request && request.error().is_unwritten()) {
        trace_virtio_iommu_request_unwritten(head->type, describe(request.error()).data());
        return 0;
    }
    const auto result = request ? execute_or_give_up(*request, chain.writable_bytes())
                                : Expected<void, Error>(unexpected(request.error().error()));
    const Status status = result ? Status::kOk : to_status(result.error());
    trace_virtio_iommu_request_done(head->type, status_name(status).data());
    const auto* probe = request ? std::get_if<ProbeRequest>(&*request) : nullptr;
    return encode(chain, head->type, status, result && probe ? probe : nullptr);
}

Expected<void, Error> VirtioIommu::execute(const Request& request, uint64_t writable_bytes)
{
    return std::visit(
        [&](const auto& r) -> Expected<void, Error> {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, AttachRequest>) {
                trace_virtio_iommu_attach(static_cast<int32_t>(r.domain.value()), static_cast<int32_t>(r.endpoint.value()));
                return domains_.apply(r);
            } else if constexpr (std::is_same_v<T, DetachRequest>) {
                trace_virtio_iommu_detach(static_cast<int32_t>(r.domain.value()), static_cast<int32_t>(r.endpoint.value()));
                return domains_.apply(r);
            } else if constexpr (std::is_same_v<T, MapRequest>) {
                // QEMU traces a MAP once its checks have passed.
                auto done = domains_.apply(r);
                if (done)
                    trace_virtio_iommu_map(static_cast<int32_t>(r.domain.value()), r.mapping.iova.first.value(),
                                           r.mapping.iova.last.value(), r.mapping.phys_start,
                                           static_cast<int32_t>(r.mapping.flags));
                return done;
            } else if constexpr (std::is_same_v<T, UnmapRequest>) {
                trace_virtio_iommu_unmap(static_cast<int32_t>(r.domain.value()), r.range.first.value(), r.range.last.value());
                auto done = domains_.apply(r);
                if (!done && done.error() == Error::kUnmapNeverEnds)
                    fail("UNMAP over an inverted interval: QEMU 7.2 loops forever in virtio_iommu_unmap()");
                return done;
            } else {
                static_assert(std::is_same_v<T, ProbeRequest>);
                trace_virtio_iommu_probe(r.endpoint.value());
                return check_probe(r, writable_bytes);
            }
        },
        request);
}

Expected<void, Error> VirtioIommu::check_probe(const ProbeRequest& probe, uint64_t writable_bytes) const
{
    // §5.13.6.7.2: a missing endpoint SHOULD be NOENT.
    if (!config_.endpoint_exists(probe.endpoint))
        return unexpected(Error::kNoSuchEndpoint);
    // "If the properties list is smaller than probe_size, the device SHOULD NOT write any property. It
    // SHOULD reject the request and set status to VIRTIO_IOMMU_S_INVAL." (QEMU aborts here.)
    if (writable_bytes < uint64_t{config_.probe_size} + sizeof(wire::ReqTail))
        return unexpected(Error::kProbeBufferTooSmall);
    // Every endpoint's properties fit in probe_size: the configuration was refused otherwise
    // (IommuConfig::problems()).
    return {};
}

uint32_t VirtioIommu::encode(const virtio::DescriptorChain& chain, uint8_t type, Status status,
                             const ProbeRequest* answered_probe)
{
    virtio::ChainWriter out(chain);
    if (type == wire::kTProbe) {
        // §5.13.6.7: the writable part is "u8 properties[probe_size]" and then the tail, and no more is
        // written: QEMU's virtio_iommu_handle_command() (hw/virtio/virtio-iommu.c) builds a reply of
        // probe_size + sizeof(tail) bytes, puts the tail at offset probe_size and pushes that length as
        // used_len. A larger buffer is not zero-filled to its end: 31 descriptors of 128 MiB would have
        // made one PROBE write almost 4 GiB. A buffer too small for that holds the tail in its last four
        // bytes, where Linux's viommu_get_req_errno() reads it, even for a request too short for its type
        // (found by fuzz-requests: with the tail at the start, Linux would have read its own zeroed tail
        // as OK).
        const uint64_t tail_offset =
            std::min<uint64_t>(config_.probe_size, chain.writable_bytes() - sizeof(wire::ReqTail));
        if (answered_probe)
            write_probe_properties(config_, answered_probe->endpoint, negotiated(wire::kFXNoncoherent), out);
        // Whatever was not written above is zeroed, so the driver never parses stale bytes as properties.
        (void)out.fill(0, tail_offset - out.written());
    }
    // Any other request's tail is the first thing in the writable part (the request's layout), where
    // QEMU writes it.
    (void)out.write_obj(wire::ReqTail{static_cast<uint8_t>(status), {}});
    return static_cast<uint32_t>(out.written());
}

} // namespace viommu::hw::virtio_iommu
