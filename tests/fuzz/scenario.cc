#include "tests/fuzz/scenario.h"

#include <algorithm>

#include <fmt/format.h>
#include <linux/virtio_iommu.h>

#include "guest-model/virtio-iommu/requests.h"
#include "hw/virtio-iommu/config.h"
#include "tests/fuzz/device_run.h"
#include "tests/fuzz/fuzz_bytes.h"

namespace viommu::fuzz {

namespace {

// Action bytes: the low bits pick the kind, the top bit says a damage suffix follows.
enum Kind : uint8_t { kAttach, kDetach, kMap, kUnmap, kProbe, kRaw, kDma, kBypass, kReset, kBatch, kFraming, kKinds };
constexpr uint8_t kDamaged = 0x80;
// Field forms: a byte of this value means the full-width value follows.
constexpr uint8_t kFull = 0xff;

// Addresses that sit on edges the device must get right: the ends of the address space, of a 48-bit
// input range, of 32-bit space, and the x86 MSI window.
constexpr uint64_t kEdges[] = {0,
                               UINT64_MAX,
                               UINT64_MAX - 0xfff,
                               0xfee00000,
                               0xfeefffff,
                               uint64_t{1} << 48,
                               (uint64_t{1} << 48) - 1,
                               uint64_t{1} << 32,
                               0x40000000,
                               0x7fffffffffffffff,
                               0x8000000000000000,
                               0xfff};
constexpr uint8_t kEdgeBase = 0xc0;

uint32_t id(ByteReader& r)
{
    const uint8_t b = r.u8();
    return b == kFull ? r.u32() : b & 7u;
}

// Small forms are granule-relative: the start of page k, its last byte, or its middle (misaligned).
uint64_t address(ByteReader& r, unsigned granule_log2)
{
    const uint8_t b = r.u8();
    if (b == kFull)
        return r.u64();
    if (b >= kEdgeBase)
        return kEdges[(b - kEdgeBase) % std::size(kEdges)];
    const uint64_t granule = uint64_t{1} << granule_log2;
    const uint64_t k = b & 0x3fu; // unsigned arithmetic below may wrap for huge granules: any value will do
    switch (b >> 6) {
    case 0: return k * granule;
    case 1: return (k + 1) * granule - 1;
    default: return k * granule + granule / 2;
    }
}

uint64_t feature_mask(ByteReader& r)
{
    // Two masks ANDed: each feature is withheld (declined) a quarter of the time, not half.
    const uint16_t mask = r.u16() & r.u16();
    uint64_t bits = 0;
    for (std::size_t i = 0; i < kFeatureNames.size(); ++i)
        if (mask & (1u << i))
            bits |= uint64_t{1} << feature_bit(i);
    return bits;
}

} // namespace

namespace {

// The device refuses reserved regions of different types that overlap for an endpoint, and a probe_size
// too small for an endpoint's properties (IommuConfig::problems()): a scenario drops the later region of
// such a pair, and grows probe_size to fit.
void make_valid(DeviceChoice& d)
{
    while (const auto pair = hw::virtio_iommu::conflicting_reserved_regions(iommu_config(d).reserved))
        d.reserved.erase(d.reserved.begin() + static_cast<std::ptrdiff_t>(pair->second));
    if (!(d.withheld & virtio::feature(VIRTIO_IOMMU_F_PROBE)))
        d.probe_size = static_cast<uint32_t>(std::max<uint64_t>(d.probe_size, iommu_config(d).largest_probe_properties()));
}

} // namespace

DeviceChoice decode_device(ByteReader& r)
{
    DeviceChoice d;
    if (const uint8_t e = r.u8(); e & 0x80) {
        d.endpoints.clear();
        for (unsigned n = 1 + r.u8() % 4; n > 0; --n) {
            const uint32_t a = r.u32(), b = r.u32();
            const EndpointRange range{std::min(a, b), std::max(a, b)};
            // A repeated range would make reserved regions' endpoint masks ambiguous in a script.
            if (std::find(d.endpoints.begin(), d.endpoints.end(), range) == d.endpoints.end())
                d.endpoints.push_back(range);
        }
    } else {
        // Endpoints 0..6 as a bit mask: 7 never exists unless alone, so NOENT stays reachable.
        d.endpoints.clear();
        for (uint32_t i = 0; i < 7; ++i) {
            if (!(e & (1u << i)))
                continue;
            if (!d.endpoints.empty() && d.endpoints.back().last + 1 == i)
                d.endpoints.back().last = i;
            else
                d.endpoints.push_back({i, i});
        }
        if (d.endpoints.empty())
            d.endpoints.push_back({7, 7});
    }
    const uint8_t g = r.u8();
    d.granule_log2 = g & 0x80 ? g & 0x3fu : g % 17u;
    d.aw_bits = 12 + r.u8() % 53u;
    if (const uint8_t b = r.u8(); b & 0x80) {
        const uint32_t first = r.u32(), last = r.u32();
        d.domain_first = std::min(first, last);
        d.domain_last = std::max(first, last);
    } else {
        d.domain_first = b & 3u;
        d.domain_last = d.domain_first + ((b >> 2) & 0x1fu);
    }
    const uint8_t flags = r.u8();
    d.boot_bypass = flags & 1;
    d.legacy_bypass = flags & 2;
    const uint8_t p = r.u8();
    d.probe_size = p & 0x80 ? (r.u32() % 4097) & ~7u : (p & 0x7fu) * 8;
    for (unsigned n = r.u8() % 5; n > 0; --n) {
        ReservedChoice c;
        const uint8_t s = r.u8();
        c.msi = s & 1;
        c.endpoint_mask = (s >> 1) & ((1u << d.endpoints.size()) - 1);
        const uint64_t a = address(r, d.granule_log2), b = address(r, d.granule_log2);
        c.start = std::min(a, b);
        c.end = std::max(a, b);
        d.reserved.push_back(c);
    }
    d.withheld = feature_mask(r);
    d.declined = feature_mask(r);
    make_valid(d);
    if (const uint8_t l = r.u8(); l == kFull) {
        d.max_domains = std::max(r.u32(), 1u);
        d.max_mappings = std::max(r.u32(), 1u);
        d.max_endpoints = std::max(r.u32(), 1u);
    } else if (l < 0x40) {
        // Tiny limits, so that NOMEM comes up.
        d.max_domains = 1 + (l & 3u);
        d.max_mappings = 1 + ((l >> 2) & 7u);
        d.max_endpoints = 1 + ((l >> 5) & 1u);
    }
    if (const uint8_t b = r.u8(); b >= 0xf0)
        d.event_buffers = b - 0xf0u;
    return d;
}

namespace {

// Truncates, extends or pokes a request's bytes, or changes its writable size; up to four times.
void damage(ByteReader& r, std::vector<uint8_t>& bytes, uint32_t& writable)
{
    for (int i = 0; i < 4; ++i) {
        const uint8_t d = r.u8();
        switch (d & 3) {
        case 0: bytes.resize(r.u8() % (bytes.size() + 1)); break;
        case 1: {
            const auto extra = r.bytes(r.u8() % 16 + 1u);
            bytes.insert(bytes.end(), extra.begin(), extra.end());
            break;
        }
        case 2: {
            const uint8_t at = r.u8(), value = r.u8();
            if (!bytes.empty())
                bytes[at % bytes.size()] = value;
            break;
        }
        default: writable = r.u16() % (kMaxWritable + 1); break;
        }
        if (!(d & 0x80))
            return;
    }
}

// One request (kinds kAttach..kRaw); false for other kinds.
bool decode_request(ByteReader& r, uint8_t op, const DeviceChoice& d, std::vector<uint8_t>& bytes, uint32_t& writable)
{
    TypedRequest t;
    switch ((op & 0x7f) % kKinds) {
    case kAttach: {
        t = {VIRTIO_IOMMU_T_ATTACH, id(r), id(r)};
        const uint8_t f = r.u8();
        t.flags = f == kFull ? r.u32() : f & 1u;
        break;
    }
    case kDetach: t = {VIRTIO_IOMMU_T_DETACH, id(r), id(r)}; break;
    case kMap: {
        t.type = VIRTIO_IOMMU_T_MAP;
        t.domain = id(r);
        t.virt_start = address(r, d.granule_log2);
        t.virt_end = address(r, d.granule_log2);
        t.phys_start = address(r, d.granule_log2);
        const uint8_t f = r.u8();
        t.flags = f == kFull ? r.u32() : f & 7u;
        break;
    }
    case kUnmap:
        t.type = VIRTIO_IOMMU_T_UNMAP;
        t.domain = id(r);
        t.virt_start = address(r, d.granule_log2);
        t.virt_end = address(r, d.granule_log2);
        break;
    case kProbe:
        t.type = VIRTIO_IOMMU_T_PROBE;
        t.endpoint = id(r);
        break;
    case kRaw:
        bytes = r.bytes(r.u8());
        writable = r.u16() % (kMaxWritable + 1);
        break;
    default: return false;
    }
    if (t.type) {
        bytes = request_bytes(t);
        writable = standard_writable(t.type, d.probe_size);
    }
    if (op & kDamaged)
        damage(r, bytes, writable);
    // A chain has at least one descriptor: with nothing in either part there is no request to send.
    if (bytes.empty() && writable == 0)
        writable = guest::virtio_iommu::req::kTailSize;
    return true;
}

// Descriptors of at least this size keep a request within 16 descriptors a part.
uint32_t segment_for(uint8_t wanted, const SendAction& s)
{
    if (wanted == 0)
        return 0;
    std::size_t longest = s.writable;
    for (const auto& req : s.requests)
        longest = std::max(longest, req.size());
    return std::max<uint32_t>(wanted, static_cast<uint32_t>((longest + 15) / 16));
}

} // namespace

unsigned feature_bit(std::size_t i)
{
    return *hw::virtio_iommu::feature_by_name(kFeatureNames.at(i));
}

std::vector<uint8_t> request_bytes(const TypedRequest& t)
{
    namespace req = guest::virtio_iommu::req;
    switch (t.type) {
    case VIRTIO_IOMMU_T_ATTACH:
        return req::encode(req::Attach{.domain = t.domain, .endpoint = t.endpoint, .flags = t.flags}).readable_vector();
    case VIRTIO_IOMMU_T_DETACH:
        return req::encode(req::Detach{.domain = t.domain, .endpoint = t.endpoint}).readable_vector();
    case VIRTIO_IOMMU_T_MAP:
        return req::encode(req::Map{.domain = t.domain,
                                    .virt_start = t.virt_start,
                                    .virt_end = t.virt_end,
                                    .phys_start = t.phys_start,
                                    .flags = t.flags})
            .readable_vector();
    case VIRTIO_IOMMU_T_UNMAP:
        return req::encode(req::Unmap{.domain = t.domain, .virt_start = t.virt_start, .virt_end = t.virt_end})
            .readable_vector();
    default: return req::encode(req::Probe{.endpoint = t.endpoint}).readable_vector();
    }
}

uint32_t standard_writable(uint8_t type, uint32_t probe_size)
{
    return type == VIRTIO_IOMMU_T_PROBE ? guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Probe{.probe_size = probe_size}).writable_len
                                        : guest::virtio_iommu::req::kTailSize;
}

std::optional<TypedRequest> as_typed(std::span<const uint8_t> readable, uint32_t writable, uint32_t probe_size)
{
    if (readable.empty() || readable[0] < VIRTIO_IOMMU_T_ATTACH || readable[0] > VIRTIO_IOMMU_T_PROBE ||
        writable != standard_writable(readable[0], probe_size))
        return std::nullopt;
    // Read the fields at the kernel structs' offsets, rebuild, and compare: equal bytes mean the same
    // request with every reserved byte zero.
    TypedRequest t{readable[0]};
    auto field = [&](std::size_t offset, auto& out) {
        if (offset + sizeof out <= readable.size())
            out = guest::virtio_iommu::wire_fields::load_le<std::remove_reference_t<decltype(out)>>(readable.data() + offset);
    };
    switch (t.type) {
    case VIRTIO_IOMMU_T_ATTACH:
        field(offsetof(virtio_iommu_req_attach, domain), t.domain);
        field(offsetof(virtio_iommu_req_attach, endpoint), t.endpoint);
        field(offsetof(virtio_iommu_req_attach, flags), t.flags);
        break;
    case VIRTIO_IOMMU_T_DETACH:
        field(offsetof(virtio_iommu_req_detach, domain), t.domain);
        field(offsetof(virtio_iommu_req_detach, endpoint), t.endpoint);
        break;
    case VIRTIO_IOMMU_T_MAP:
        field(offsetof(virtio_iommu_req_map, domain), t.domain);
        field(offsetof(virtio_iommu_req_map, virt_start), t.virt_start);
        field(offsetof(virtio_iommu_req_map, virt_end), t.virt_end);
        field(offsetof(virtio_iommu_req_map, phys_start), t.phys_start);
        field(offsetof(virtio_iommu_req_map, flags), t.flags);
        break;
    case VIRTIO_IOMMU_T_UNMAP:
        field(offsetof(virtio_iommu_req_unmap, domain), t.domain);
        field(offsetof(virtio_iommu_req_unmap, virt_start), t.virt_start);
        field(offsetof(virtio_iommu_req_unmap, virt_end), t.virt_end);
        break;
    default: field(offsetof(virtio_iommu_req_probe, endpoint), t.endpoint); break;
    }
    const auto rebuilt = request_bytes(t);
    if (!std::equal(readable.begin(), readable.end(), rebuilt.begin(), rebuilt.end()))
        return std::nullopt;
    return t;
}

Scenario decode_scenario(std::span<const uint8_t> input)
{
    ByteReader r(input);
    Scenario s;
    s.device = decode_device(r);
    uint8_t segment = 0;
    std::size_t resets = 0;
    // Each action takes at least its op byte: one allocation instead of the vector's doublings.
    s.actions.reserve(std::min(kMaxActions, r.remaining()));
    while (!r.empty() && s.actions.size() < kMaxActions) {
        const uint8_t op = r.u8();
        SendAction send;
        std::vector<uint8_t> bytes;
        if (decode_request(r, op, s.device, bytes, send.writable)) {
            send.requests.push_back(std::move(bytes));
            send.segment = segment_for(segment, send);
            s.actions.push_back(std::move(send));
            continue;
        }
        switch ((op & 0x7f) % kKinds) {
        case kDma: {
            DmaAction a{id(r), address(r, s.device.granule_log2)};
            const uint8_t b = r.u8();
            a.write = b & 1;
            const unsigned v = b >> 1;
            a.len = v == 0x7f ? std::max<uint64_t>(r.u64(), 1) : 1 + (uint64_t{v} << 9);
            // viommu-replay refuses an access that wraps past 2^64: end it at the top of the address space.
            if (a.iova != 0)
                a.len = std::min(a.len, uint64_t{0} - a.iova);
            s.actions.push_back(a);
            break;
        }
        case kBypass: s.actions.push_back(BypassAction{static_cast<uint8_t>(r.u8() & 1)}); break;
        case kReset:
            if (++resets <= kMaxResets)
                s.actions.push_back(ResetAction{});
            break;
        case kBatch: {
            for (unsigned n = 2 + r.u8() % 3; n > 0; --n) {
                uint32_t writable = 0;
                // A byte naming another kind adds nothing: batches hold requests only.
                if (decode_request(r, r.u8(), s.device, bytes, writable)) {
                    if (send.requests.empty())
                        send.writable = writable; // one writable size for the whole batch
                    send.requests.push_back(std::move(bytes));
                }
            }
            if (!send.requests.empty()) {
                // As for one request (decode_request), every chain needs a descriptor; but the batch
                // shares the first request's writable size, which may be 0 where a later request has no
                // readable byte either (found by fuzz-differential: the driver could not queue it).
                if (send.writable == 0 && std::any_of(send.requests.begin(), send.requests.end(),
                                                      [](const std::vector<uint8_t>& req) { return req.empty(); }))
                    send.writable = guest::virtio_iommu::req::kTailSize;
                send.segment = segment_for(segment, send);
                s.actions.push_back(std::move(send));
            }
            break;
        }
        default: segment = r.u8(); break;
        }
    }
    return s;
}

namespace {

void put_id(ByteWriter& w, uint32_t v)
{
    w.u8(kFull);
    w.u32(v);
}

void put_address(ByteWriter& w, uint64_t v)
{
    w.u8(kFull);
    w.u64(v);
}

Expected<void, std::string> put_feature_mask(ByteWriter& w, uint64_t bits)
{
    uint16_t mask = 0;
    for (std::size_t i = 0; i < kFeatureNames.size(); ++i) {
        const uint64_t bit = uint64_t{1} << feature_bit(i);
        if (bits & bit) {
            mask |= static_cast<uint16_t>(1u << i);
            bits &= ~bit;
        }
    }
    if (bits)
        return unexpected(fmt::format("features {:#x} have no name", bits));
    w.u16(mask);
    w.u16(mask);
    return {};
}

} // namespace

Expected<void, std::string> encode_device(ByteWriter& w, const DeviceChoice& d)
{
    if (d.endpoints.empty() || d.endpoints.size() > 4)
        return unexpected(std::string("1 to 4 endpoint ranges"));
    w.u8(0x80);
    w.u8(static_cast<uint8_t>(d.endpoints.size() - 1));
    for (const EndpointRange& e : d.endpoints) {
        w.u32(e.first);
        w.u32(e.last);
    }
    if (d.granule_log2 > 63)
        return unexpected(std::string("granule beyond 2^63"));
    w.u8(static_cast<uint8_t>(0x80 | d.granule_log2));
    if (d.aw_bits < 12 || d.aw_bits > 64)
        return unexpected(std::string("aw-bits outside 12..64"));
    w.u8(static_cast<uint8_t>(d.aw_bits - 12));
    w.u8(0x80);
    w.u32(d.domain_first);
    w.u32(d.domain_last);
    w.u8(static_cast<uint8_t>((d.boot_bypass ? 1 : 0) | (d.legacy_bypass ? 2 : 0)));
    if (d.probe_size > 4096 || d.probe_size % 8)
        return unexpected(std::string("probe_size beyond 4096 or not a multiple of 8"));
    w.u8(0x80);
    w.u32(d.probe_size);
    if (d.reserved.size() > 4)
        return unexpected(std::string("more than 4 reserved regions"));
    w.u8(static_cast<uint8_t>(d.reserved.size()));
    for (const ReservedChoice& c : d.reserved) {
        if (c.endpoint_mask >> d.endpoints.size() || c.start > c.end)
            return unexpected(std::string("a reserved region names endpoint ranges that do not exist"));
        w.u8(static_cast<uint8_t>((c.msi ? 1 : 0) | c.endpoint_mask << 1));
        put_address(w, c.start);
        put_address(w, c.end);
    }
    if (auto ok = put_feature_mask(w, d.withheld); !ok)
        return ok;
    if (auto ok = put_feature_mask(w, d.declined); !ok)
        return ok;
    if (!d.max_domains || !d.max_mappings || !d.max_endpoints)
        return unexpected(std::string("limits must be at least 1"));
    w.u8(kFull);
    w.u32(d.max_domains);
    w.u32(d.max_mappings);
    w.u32(d.max_endpoints);
    if (d.event_buffers != 64 && d.event_buffers > 15)
        return unexpected(std::string("event buffers other than 0..15 or 64"));
    w.u8(d.event_buffers == 64 ? 0 : static_cast<uint8_t>(0xf0 + d.event_buffers));
    return {};
}

namespace {

Expected<void, std::string> put_request(ByteWriter& w, const std::vector<uint8_t>& bytes, uint32_t writable,
                                        uint32_t probe_size)
{
    if (const auto t = as_typed(bytes, writable, probe_size)) {
        switch (t->type) {
        case VIRTIO_IOMMU_T_ATTACH:
            w.u8(kAttach);
            put_id(w, t->domain);
            put_id(w, t->endpoint);
            w.u8(kFull);
            w.u32(t->flags);
            return {};
        case VIRTIO_IOMMU_T_DETACH:
            w.u8(kDetach);
            put_id(w, t->domain);
            put_id(w, t->endpoint);
            return {};
        case VIRTIO_IOMMU_T_MAP:
            w.u8(kMap);
            put_id(w, t->domain);
            put_address(w, t->virt_start);
            put_address(w, t->virt_end);
            put_address(w, t->phys_start);
            w.u8(kFull);
            w.u32(t->flags);
            return {};
        case VIRTIO_IOMMU_T_UNMAP:
            w.u8(kUnmap);
            put_id(w, t->domain);
            put_address(w, t->virt_start);
            put_address(w, t->virt_end);
            return {};
        default:
            w.u8(kProbe);
            put_id(w, t->endpoint);
            return {};
        }
    }
    if (bytes.size() > 255 || writable > kMaxWritable)
        return unexpected(fmt::format("a raw request of {} bytes with {} writable", bytes.size(), writable));
    w.u8(kRaw);
    w.u8(static_cast<uint8_t>(bytes.size()));
    w.bytes(bytes);
    w.u16(static_cast<uint16_t>(writable));
    return {};
}

} // namespace

Expected<std::vector<uint8_t>, std::string> encode_scenario(const Scenario& s)
{
    ByteWriter w;
    if (auto ok = encode_device(w, s.device); !ok)
        return unexpected("device: " + ok.error());
    uint8_t segment = 0; // the framing byte the decoder holds
    for (const Action& action : s.actions) {
        Expected<void, std::string> ok;
        if (const auto* send = std::get_if<SendAction>(&action)) {
            if (segment_for(segment, *send) != send->segment) {
                segment = static_cast<uint8_t>(std::min<uint32_t>(send->segment, 0xff));
                if (segment_for(segment, *send) != send->segment)
                    return unexpected(fmt::format("descriptors of {} bytes", send->segment));
                w.u8(kFraming);
                w.u8(segment);
            }
            if (send->requests.empty() || send->requests.size() > 4)
                return unexpected(fmt::format("a batch of {} requests", send->requests.size()));
            if (send->requests.size() > 1) {
                w.u8(kBatch);
                w.u8(static_cast<uint8_t>(send->requests.size() - 2));
            }
            // A batch's requests share the first one's writable size: typed forms give each its own.
            for (const auto& req : send->requests)
                if (ok = put_request(w, req, send->writable, s.device.probe_size); !ok)
                    break;
        } else if (const auto* dma = std::get_if<DmaAction>(&action)) {
            w.u8(kDma);
            put_id(w, dma->endpoint);
            put_address(w, dma->iova);
            if (dma->len == 1) {
                w.u8(dma->write ? 1 : 0);
            } else {
                w.u8(static_cast<uint8_t>(0xfe | (dma->write ? 1 : 0)));
                w.u64(dma->len);
            }
        } else if (const auto* bypass = std::get_if<BypassAction>(&action)) {
            w.u8(kBypass);
            w.u8(bypass->value);
        } else {
            w.u8(kReset);
        }
        if (!ok)
            return unexpected(ok.error());
    }
    return w.data();
}

} // namespace viommu::fuzz
