#include "hw/virtio-iommu/snapshot.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/byte_stream.h"
#include "hw/virtio-iommu/device.h"

namespace viommu::hw::virtio_iommu {

namespace {

constexpr uint8_t kMagic[8] = {'V', 'I', 'O', 'M', 'M', 'U', 'S', 'S'};
constexpr std::size_t kHeader = sizeof kMagic + 4 + 8; // magic, version, payload length
constexpr std::size_t kMaxFailureText = 4096;
constexpr std::size_t kMappingBytes = 8 + 8 + 8 + 4;

// The device's properties, in a fixed order: a snapshot restores only into a device built alike.
void put_config(ByteWriter& w, const IommuConfig& c, virtio::FeatureBits offered)
{
    w.u64(offered);
    w.u32(static_cast<uint32_t>(c.endpoints.size()));
    for (const EndpointRange& r : c.endpoints) {
        w.u32(r.first.value());
        w.u32(r.last.value());
    }
    w.u64(c.page_size_mask);
    w.u64(c.input_start);
    w.u64(c.input_end);
    w.u32(c.domain_start);
    w.u32(c.domain_end);
    w.u32(c.probe_size);
    w.boolean(c.boot_bypass);
    w.boolean(c.legacy_bypass);
    w.u32(static_cast<uint32_t>(c.reserved.size()));
    for (const ReservedRegion& r : c.reserved) {
        w.u32(static_cast<uint32_t>(r.endpoints.size()));
        for (const EndpointRange& e : r.endpoints) {
            w.u32(e.first.value());
            w.u32(e.last.value());
        }
        w.u64(r.range.first.value());
        w.u64(r.range.last.value());
        w.u8(static_cast<uint8_t>(r.type));
    }
    w.u32(c.limits.max_domains);
    w.u32(c.limits.max_mappings_per_domain);
    w.u32(c.limits.max_attached_endpoints);
    // Only with the experimental extension, so that every other device's snapshot keeps its bytes.
    if (c.x_noncoherent) {
        w.u32(static_cast<uint32_t>(c.noncoherent_endpoints.size()));
        for (const EndpointId e : c.noncoherent_endpoints)
            w.u32(e.value());
    }
}

// Whether some endpoint of the device is outside every per-endpoint reserved region over the range:
// one that could have been attached, alone, when MAP made that mapping.
bool some_endpoint_could_map(const IommuConfig& c, IovaRange iova)
{
    std::vector<EndpointRange> covered;
    for (const ReservedRegion& r : c.reserved)
        if (r.range.intersects(iova))
            covered.insert(covered.end(), r.endpoints.begin(), r.endpoints.end());
    for (const EndpointRange& range : c.endpoints)
        if (!covers(covered, range))
            return true;
    return false;
}

std::vector<uint8_t> config_bytes(const VirtioIommu& d)
{
    ByteWriter w;
    put_config(w, d.config(), d.device_features());
    return std::move(w.buffer());
}

// Reads what save() wrote, checking every count against the bytes left before trusting it.
class Parser {
public:
    Parser(std::span<const uint8_t> payload, const VirtioIommu& target)
        : domains(target.config()), r_(payload), target_(target)
    {
    }

    Expected<void, std::string> parse()
    {
        const auto expected_config = config_bytes(target_);
        const auto config = r_.bytes(expected_config.size());
        if (!config)
            return fail("the device properties");
        if (!std::equal(config->begin(), config->end(), expected_config.begin()))
            return unexpected(std::string(
                "the snapshot was taken of a virtio-iommu with other properties (endpoints, granule, ranges, "
                "reserved regions, limits or features)"));
        if (auto ok = parse_device_state(); !ok)
            return ok;
        const auto bypass = r_.u8();
        if (!bypass || *bypass > 1)
            return fail("config.bypass (0 or 1)");
        bypass_ = *bypass;
        if (auto ok = parse_domains(); !ok)
            return ok;
        if (r_.remaining() != 0)
            return unexpected(fmt::format("{} unexpected bytes after the state", r_.remaining()));
        return {};
    }

    virtio::DeviceState state;
    uint8_t bypass_ = 0;
    Domains domains; // the scratch state the requests are replayed into

private:
    Expected<void, std::string> fail(std::string_view what) const
    {
        return unexpected(fmt::format("bad or missing {} at payload offset {}", what, r_.position()));
    }

    Expected<void, std::string> parse_device_state()
    {
        const auto features = r_.u64();
        const auto status = r_.u8();
        const auto broken = r_.boolean();
        if (!features || !status || !broken)
            return fail("device status");
        const auto failure = r_.str(kMaxFailureText);
        const auto generation = r_.u32();
        const auto isr = r_.u32();
        const auto nqueues = r_.u32();
        if (!failure || !generation || !isr || !nqueues)
            return fail("device status");
        if (*nqueues != target_.num_queues())
            return unexpected(fmt::format("{} queues in the snapshot, {} in the device", *nqueues, target_.num_queues()));
        state = {*features, *status, *broken, *failure, *generation, *isr, {}};
        for (uint32_t i = 0; i < *nqueues; ++i) {
            virtio::QueueState q;
            const auto size = r_.u32();
            const auto desc = r_.u64(), driver = r_.u64(), device = r_.u64();
            const auto ready = r_.boolean();
            const auto next_avail = r_.u16(), used = r_.u16(), signalled = r_.u16();
            const auto valid = r_.boolean();
            if (!size || !desc || !driver || !device || !ready || !next_avail || !used || !signalled || !valid)
                return fail(fmt::format("queue {}", i));
            q = {*size, GuestAddr(*desc), GuestAddr(*driver), GuestAddr(*device), *ready,
                 {*next_avail, *used, *signalled, *valid}};
            state.queues.push_back(q);
        }
        return {};
    }

    // The domains are not copied from the stream but rebuilt by replaying, into a scratch state, the
    // ATTACH and MAP requests that make them, through the rules that serve the guest's requests: a
    // stream whose state no guest could have built is refused with the rule it breaks.
    Expected<void, std::string> parse_domains()
    {
        const auto ndomains = r_.u32();
        if (!ndomains)
            return fail("domain count");
        const RequestFeatures features =
            RequestFeatures::in_effect(state.driver_features, target_.config().behaviour);
        std::set<DomainId> ids;
        std::set<EndpointId> attached;
        for (uint32_t i = 0; i < *ndomains; ++i) {
            const auto raw_id = r_.u32();
            const auto bypass = r_.boolean();
            const auto nendpoints = r_.u32();
            if (!raw_id || !bypass || !nendpoints)
                return fail("domain");
            const DomainId id(*raw_id);
            // A second record of a domain, or of an endpoint, would replay as a join or a move: the
            // stream would not say what the device held.
            if (!ids.insert(id).second)
                return unexpected(fmt::format("domain {} appears twice", id));
            if (*nendpoints == 0 || *nendpoints > r_.remaining() / 4)
                return fail(fmt::format("endpoint count of domain {}", id));
            std::vector<EndpointId> endpoints;
            for (uint32_t e = 0; e < *nendpoints; ++e) {
                const auto ep = r_.u32();
                if (!ep)
                    return fail("endpoint");
                if (!attached.insert(EndpointId(*ep)).second)
                    return unexpected(fmt::format("endpoint {} is attached twice", *ep));
                endpoints.push_back(EndpointId(*ep));
            }
            // The first endpoint makes the domain, the mappings are made, and the others join after.
            // The mappings are not checked against the regions of the endpoints attached now (see
            // replay_map()).
            if (auto ok = replay_attach(AttachRequest{id, endpoints.front(), *bypass}, features); !ok)
                return ok;
            if (auto ok = replay_mappings(id, features); !ok)
                return ok;
            for (std::size_t e = 1; e < endpoints.size(); ++e)
                if (auto ok = replay_attach(AttachRequest{id, endpoints[e], *bypass}, features); !ok)
                    return ok;
        }
        return {};
    }

    Expected<void, std::string> replay_mappings(DomainId domain, const RequestFeatures& features)
    {
        const auto n = r_.u64();
        if (!n || *n > r_.remaining() / kMappingBytes)
            return fail(fmt::format("mapping count of domain {}", domain));
        // §5.13.6.5: only MAP makes a mapping, and MAP exists only with VIRTIO_IOMMU_F_MAP_UNMAP.
        if (*n > 0 && !features.map_unmap)
            return unexpected(fmt::format("domain {} holds mappings but VIRTIO_IOMMU_F_MAP_UNMAP was not negotiated",
                                          domain));
        for (uint64_t i = 0; i < *n; ++i) {
            const MapRequest map{domain, read_mapping()}; // counted above
            if (auto ok = replay_map(map, features); !ok)
                return unexpected(fmt::format("domain {}: mapping {:#x}-{:#x} is not one MAP could have made: {}",
                                              domain, map.mapping.iova.first, map.mapping.iova.last, ok.error()));
        }
        return {};
    }

    // One mapping record: virt_start, virt_end, phys_start, flags. The caller has checked the bytes are
    // there.
    Mapping read_mapping()
    {
        const Iova first(*r_.u64());
        const Iova last(*r_.u64());
        const uint64_t phys_start = *r_.u64();
        return Mapping{IovaRange{first, last}, phys_start, *r_.u32()};
    }

    // MAP checks a mapping against the reserved regions of the endpoints attached when it is made, but
    // ATTACH does not check a domain's mappings against the regions of an endpoint that joins it
    // (§5.13.6.3 has no such rule), and the endpoint that made a mapping may have been detached since:
    // a device can hold a mapping over a region of every endpoint its domain has now. What no guest can
    // make is a mapping over a region of every endpoint of the device.
    Expected<void, std::string> replay_map(const MapRequest& map, const RequestFeatures& features)
    {
        if (auto ok = check_request(map, features, target_.config().behaviour); !ok)
            return unexpected(describe(ok.error()));
        if (target_.config().behaviour.map_checks_reserved_regions &&
            !some_endpoint_could_map(target_.config(), map.mapping.iova))
            return unexpected(std::string("it overlaps a reserved region of every endpoint"));
        if (auto ok = domains.apply_restored(map); !ok)
            return unexpected(describe(Refusal(ok.error())));
        return {};
    }

    Expected<void, std::string> replay_attach(const AttachRequest& attach, const RequestFeatures& features)
    {
        if (auto ok = replay(attach, features); !ok)
            return unexpected(fmt::format("endpoint {} cannot be attached to domain {}: {}", attach.endpoint,
                                          attach.domain, describe(ok.error())));
        return {};
    }

    template <class Req>
    Expected<void, Refusal> replay(const Req& request, const RequestFeatures& features)
    {
        if (auto ok = check_request(request, features, target_.config().behaviour); !ok)
            return ok;
        if (auto ok = domains.apply(request); !ok)
            return unexpected(Refusal(ok.error()));
        return {};
    }

    ByteReader r_;
    const VirtioIommu& target_;
};

} // namespace

std::vector<uint8_t> Snapshot::save(const VirtioIommu& device)
{
    const auto domains = device.domains().all();
    // The stream's size, give or take the configuration's lists and the failure text, so that the
    // buffer is allocated once rather than grown through a dozen doublings (a million mappings are
    // 28 MB): a domain is 17 bytes (ID, bypass, the two counts), 4 an endpoint, 28 a mapping.
    std::size_t size = kHeader + 512;
    for (const VirtioIommuDomain* d : domains)
        size += 17 + 4 * d->endpoints.size() + 28 * d->mappings.size();
    ByteWriter w;
    w.reserve(size);
    w.bytes(kMagic);
    w.u32(kVersion);
    w.u64(0); // payload length, filled in below
    put_config(w, device.config(), device.device_features());
    const virtio::DeviceState s = device.save_state();
    w.u64(s.driver_features);
    w.u8(s.status);
    w.boolean(s.broken);
    w.str(s.failure.substr(0, kMaxFailureText));
    w.u32(s.config_generation);
    w.u32(s.isr);
    w.u32(static_cast<uint32_t>(s.queues.size()));
    for (const virtio::QueueState& q : s.queues) {
        w.u32(q.size);
        w.u64(q.desc.value());
        w.u64(q.driver.value());
        w.u64(q.device.value());
        w.boolean(q.ready);
        w.u16(q.indices.next_avail);
        w.u16(q.indices.used_idx);
        w.u16(q.indices.signalled_used);
        w.boolean(q.indices.signalled_used_valid);
    }
    w.u8(device.bypass_field());
    w.u32(static_cast<uint32_t>(domains.size()));
    for (const VirtioIommuDomain* d : domains) {
        w.u32(d->id.value());
        w.boolean(d->bypass);
        w.u32(static_cast<uint32_t>(d->endpoints.size()));
        for (EndpointId ep : d->endpoints)
            w.u32(ep.value());
        w.u64(d->mappings.size());
        d->mappings.for_each([&](const Mapping& m) {
            w.u64(m.iova.first.value());
            w.u64(m.iova.last.value());
            w.u64(m.phys_start);
            w.u32(m.flags);
        });
    }
    std::vector<uint8_t>& buf = w.buffer();
    const uint64_t payload = buf.size() - kHeader;
    for (int i = 0; i < 8; ++i)
        buf[sizeof kMagic + 4 + i] = static_cast<uint8_t>(payload >> (8 * i));
    const uint32_t crc = crc32(buf);
    w.u32(crc);
    return std::move(buf);
}

Expected<void, std::string> Snapshot::restore(VirtioIommu& device, std::span<const uint8_t> stream)
{
    ByteReader header(stream);
    const auto magic = header.bytes(sizeof kMagic);
    if (!magic || !std::equal(magic->begin(), magic->end(), kMagic))
        return unexpected(std::string("not a viommu snapshot (bad magic)"));
    const auto version = header.u32();
    const auto length = header.u64();
    if (!version || !length)
        return unexpected(fmt::format("truncated snapshot: {} bytes, not even a header", stream.size()));
    if (*version != kVersion)
        return unexpected(fmt::format("snapshot version {} is not supported (this viommu reads version {})", *version,
                                      kVersion));
    if (*length > stream.size() - kHeader || stream.size() - kHeader - *length < 4)
        return unexpected(fmt::format("truncated snapshot: {} bytes, the header announces {}", stream.size(),
                                      kHeader + *length + 4));
    if (stream.size() - kHeader - *length != 4)
        return unexpected(fmt::format("{} bytes after the end of the snapshot", stream.size() - kHeader - *length - 4));
    const auto body = stream.first(kHeader + *length);
    ByteReader tail(stream.subspan(kHeader + *length));
    if (crc32(body) != *tail.u32())
        return unexpected(std::string("corrupted snapshot: checksum mismatch"));

    Parser parser(stream.subspan(kHeader, *length), device);
    if (auto ok = parser.parse(); !ok)
        return unexpected("invalid snapshot: " + ok.error());
    if (auto ok = device.restore_state(parser.state); !ok)
        return unexpected("invalid snapshot: " + ok.error());
    device.bypass_ = parser.bypass_;
    device.domains_.replace_all(std::move(parser.domains));
    return {};
}

} // namespace viommu::hw::virtio_iommu
