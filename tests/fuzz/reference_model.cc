#include "tests/fuzz/reference_model.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <linux/virtio_config.h>
#include <linux/virtio_iommu.h>
// vring_init() in the legacy part of the header is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

namespace viommu::fuzz {

namespace {

template <class T>
T read_le(std::span<const uint8_t> bytes, std::size_t offset)
{
    T v{}; // the host is little-endian, like the wire
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

bool all_zero(std::span<const uint8_t> bytes, std::size_t from, std::size_t to)
{
    for (std::size_t i = from; i < to; ++i)
        if (bytes[i])
            return false;
    return true;
}

constexpr uint64_t bit(unsigned b) { return uint64_t{1} << b; }

// What the device offers: QEMU's set (§5.13.3), with the legacy BYPASS in place of BYPASS_CONFIG when
// asked, less what the configuration withholds.
uint64_t offered_features(const DeviceChoice& d)
{
    uint64_t f = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_RING_F_INDIRECT_DESC) | bit(VIRTIO_RING_F_EVENT_IDX) |
                 bit(VIRTIO_F_RING_RESET) | bit(VIRTIO_IOMMU_F_INPUT_RANGE) | bit(VIRTIO_IOMMU_F_DOMAIN_RANGE) |
                 bit(VIRTIO_IOMMU_F_MAP_UNMAP) | bit(VIRTIO_IOMMU_F_PROBE) | bit(VIRTIO_IOMMU_F_MMIO) |
                 bit(d.legacy_bypass ? VIRTIO_IOMMU_F_BYPASS : VIRTIO_IOMMU_F_BYPASS_CONFIG);
    return f & ~d.withheld;
}

constexpr uint8_t kOk = VIRTIO_IOMMU_S_OK;
constexpr uint8_t kInval = VIRTIO_IOMMU_S_INVAL;
constexpr uint8_t kRange = VIRTIO_IOMMU_S_RANGE;
constexpr uint8_t kNoEnt = VIRTIO_IOMMU_S_NOENT;
constexpr uint8_t kNoMem = VIRTIO_IOMMU_S_NOMEM;

// The request sizes without their tails (§5.13.6.3-§5.13.6.7).
constexpr std::size_t kAttachLen = sizeof(virtio_iommu_req_attach) - sizeof(virtio_iommu_req_tail);
constexpr std::size_t kDetachLen = sizeof(virtio_iommu_req_detach) - sizeof(virtio_iommu_req_tail);
constexpr std::size_t kMapLen = sizeof(virtio_iommu_req_map) - sizeof(virtio_iommu_req_tail);
constexpr std::size_t kUnmapLen = sizeof(virtio_iommu_req_unmap) - sizeof(virtio_iommu_req_tail);
constexpr std::size_t kProbeLen = sizeof(virtio_iommu_req_probe);
constexpr uint32_t kTail = sizeof(virtio_iommu_req_tail);

Reply tail_only(uint8_t status)
{
    return {true, kTail, {status, 0, 0, 0}};
}

} // namespace

ReferenceModel::ReferenceModel(const DeviceChoice& device)
    : config_(device), offered_(offered_features(device)), negotiated_(offered_ & ~device.declined),
      bypass_(device.boot_bypass ? 1 : 0)
{
    // Without INPUT_RANGE "mappings span over the whole 64-bit address space" (§5.13.6).
    input_end_ = !offered(VIRTIO_IOMMU_F_INPUT_RANGE) || config_.aw_bits == 64 ? UINT64_MAX
                                                                              : bit(config_.aw_bits) - 1;
}

bool ReferenceModel::endpoint_exists(uint32_t endpoint) const
{
    for (const EndpointRange& r : config_.endpoints)
        if (r.first <= endpoint && endpoint <= r.last)
            return true;
    return false;
}

bool ReferenceModel::region_applies(std::size_t region, uint32_t endpoint) const
{
    const ReservedChoice& r = config_.reserved[region];
    if (r.endpoint_mask == 0)
        return true;
    for (std::size_t i = 0; i < config_.endpoints.size(); ++i)
        if ((r.endpoint_mask >> i) & 1 && config_.endpoints[i].first <= endpoint && endpoint <= config_.endpoints[i].last)
            return true;
    return false;
}

ReferenceModel::Domain* ReferenceModel::domain(uint32_t id)
{
    for (Domain& d : domains_)
        if (d.id == id)
            return &d;
    return nullptr;
}

ReferenceModel::Domain* ReferenceModel::domain_of(uint32_t endpoint)
{
    for (Domain& d : domains_)
        for (uint32_t e : d.endpoints)
            if (e == endpoint)
                return &d;
    return nullptr;
}

std::size_t ReferenceModel::attached_count() const
{
    std::size_t n = 0;
    for (const Domain& d : domains_)
        n += d.endpoints.size();
    return n;
}

void ReferenceModel::remove_endpoint(uint32_t endpoint)
{
    for (std::size_t i = 0; i < domains_.size(); ++i) {
        auto& eps = domains_[i].endpoints;
        eps.erase(std::remove(eps.begin(), eps.end(), endpoint), eps.end());
        // §5.13.6.4: a domain with no endpoint left ceases to exist, mappings and all.
        if (eps.empty()) {
            domains_.erase(domains_.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
    }
}

Observation ReferenceModel::apply(const Action& action)
{
    Observation o;
    if (const auto* send = std::get_if<SendAction>(&action)) {
        for (const auto& req : send->requests)
            o.replies.push_back(answer(req, send->writable));
    } else if (const auto* dma = std::get_if<DmaAction>(&action)) {
        // Piece by piece, as far as each translation reaches, stopping at a fault.
        uint64_t done = 0;
        while (done < dma->len) {
            o.translated.push_back(translate(dma->endpoint, dma->iova + done, dma->write));
            const Translated& t = o.translated.back();
            if (!t.ok || t.contiguous >= dma->len - done)
                break;
            done += t.contiguous;
        }
    } else if (const auto* bypass = std::get_if<BypassAction>(&action)) {
        write_bypass(bypass->value);
    } else {
        reset();
    }
    o.needs_reset = broken_;
    return o;
}

Reply ReferenceModel::answer(std::span<const uint8_t> readable, uint32_t writable)
{
    if (broken_)
        return {}; // a device that gave up returns nothing
    // §5.13.6: a request whose head or tail cannot be found is returned unwritten.
    if (readable.size() < sizeof(virtio_iommu_req_head) || writable < kTail)
        return {true, 0, {}};
    switch (readable[0]) {
    case VIRTIO_IOMMU_T_ATTACH: return tail_only(attach(readable));
    case VIRTIO_IOMMU_T_DETACH: return tail_only(detach(readable));
    case VIRTIO_IOMMU_T_MAP:
        // §5.13.6.5: MAP and UNMAP exist only with MAP_UNMAP negotiated; otherwise the type is unknown.
        return negotiated(VIRTIO_IOMMU_F_MAP_UNMAP) ? tail_only(map(readable)) : Reply{true, 0, {}};
    case VIRTIO_IOMMU_T_UNMAP:
        return negotiated(VIRTIO_IOMMU_F_MAP_UNMAP) ? tail_only(unmap(readable)) : Reply{true, 0, {}};
    case VIRTIO_IOMMU_T_PROBE:
        return negotiated(VIRTIO_IOMMU_F_PROBE) ? probe(readable, writable) : Reply{true, 0, {}};
    default:
        // §5.13.6.2: an unrecognised type is returned unwritten, used length 0.
        return {true, 0, {}};
    }
}

uint8_t ReferenceModel::attach(std::span<const uint8_t> req)
{
    if (req.size() < kAttachLen)
        return kInval;
    const auto domain_id = read_le<uint32_t>(req, offsetof(virtio_iommu_req_attach, domain));
    const auto endpoint = read_le<uint32_t>(req, offsetof(virtio_iommu_req_attach, endpoint));
    const auto flags = read_le<uint32_t>(req, offsetof(virtio_iommu_req_attach, flags));
    const bool bypass = flags & VIRTIO_IOMMU_ATTACH_F_BYPASS;
    // §5.13.6.3.2, in the spec's order: reserved, flags, endpoint.
    if (!all_zero(req, offsetof(virtio_iommu_req_attach, reserved), kAttachLen))
        return kInval;
    const uint32_t known = negotiated(VIRTIO_IOMMU_F_BYPASS_CONFIG) ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0;
    if (flags & ~known)
        return kInval;
    if (!endpoint_exists(endpoint))
        return kNoEnt;
    if (offered(VIRTIO_IOMMU_F_DOMAIN_RANGE) && (domain_id < config_.domain_first || domain_id > config_.domain_last))
        return kRange;
    Domain* target = domain(domain_id);
    if (target && target->bypass != bypass)
        return kInval;
    Domain* current = domain_of(endpoint);
    if (current && current == target)
        return kOk;
    // Count what the move leaves: the old domain may disappear, the new one may appear.
    const bool old_goes = current && current->endpoints.size() == 1;
    const std::size_t domains_after = domains_.size() - (old_goes ? 1 : 0) + (target ? 0 : 1);
    if (domains_after > config_.max_domains)
        return kNoMem;
    if (!current && attached_count() + 1 > config_.max_endpoints)
        return kNoMem;
    if (current)
        remove_endpoint(endpoint);
    if (Domain* d = domain(domain_id))
        d->endpoints.push_back(endpoint);
    else
        domains_.push_back({domain_id, bypass, {endpoint}, {}});
    return kOk;
}

uint8_t ReferenceModel::detach(std::span<const uint8_t> req)
{
    if (req.size() < kDetachLen)
        return kInval;
    const auto domain_id = read_le<uint32_t>(req, offsetof(virtio_iommu_req_detach, domain));
    const auto endpoint = read_le<uint32_t>(req, offsetof(virtio_iommu_req_detach, endpoint));
    // §5.13.6.4.2: reserved is ignored; a missing endpoint is NOENT; not attached there, INVAL.
    if (!endpoint_exists(endpoint))
        return kNoEnt;
    const Domain* current = domain_of(endpoint);
    if (!current || current->id != domain_id)
        return kInval;
    remove_endpoint(endpoint);
    return kOk;
}

uint8_t ReferenceModel::map(std::span<const uint8_t> req)
{
    if (req.size() < kMapLen)
        return kInval;
    const auto domain_id = read_le<uint32_t>(req, offsetof(virtio_iommu_req_map, domain));
    const auto start = read_le<uint64_t>(req, offsetof(virtio_iommu_req_map, virt_start));
    const auto end = read_le<uint64_t>(req, offsetof(virtio_iommu_req_map, virt_end));
    const auto phys = read_le<uint64_t>(req, offsetof(virtio_iommu_req_map, phys_start));
    const auto flags = read_le<uint32_t>(req, offsetof(virtio_iommu_req_map, flags));
    uint32_t known = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
    if (negotiated(VIRTIO_IOMMU_F_MMIO))
        known |= VIRTIO_IOMMU_MAP_F_MMIO;
    if (flags & ~known)
        return kInval;
    if (end < start)
        return kInval;
    Domain* d = domain(domain_id);
    if (!d)
        return kNoEnt;
    if (d->bypass)
        return kInval;
    if (end > input_end_) // input_range starts at 0
        return kRange;
    const uint64_t granule = bit(config_.granule_log2);
    const uint64_t after = end + 1; // 0 for a mapping that ends at 2^64 - 1, which is aligned
    if (start % granule || phys % granule || after % granule)
        return kRange;
    if (end - start > UINT64_MAX - phys) // phys + (end - start) would pass 2^64
        return kRange;
    for (const MapEntry& m : d->mappings)
        if (m.start <= end && start <= m.end)
            return kInval;
    // §5.13.6.8.1.2: no mapping over a reserved region of an endpoint in the domain.
    for (uint32_t ep : d->endpoints)
        for (std::size_t r = 0; r < config_.reserved.size(); ++r)
            if (region_applies(r, ep) && config_.reserved[r].start <= end && start <= config_.reserved[r].end)
                return kInval;
    if (d->mappings.size() >= config_.max_mappings)
        return kNoMem;
    d->mappings.push_back({start, end, phys, flags});
    return kOk;
}

uint8_t ReferenceModel::unmap(std::span<const uint8_t> req)
{
    if (req.size() < kUnmapLen)
        return kInval;
    const auto domain_id = read_le<uint32_t>(req, offsetof(virtio_iommu_req_unmap, domain));
    const auto start = read_le<uint64_t>(req, offsetof(virtio_iommu_req_unmap, virt_start));
    const auto end = read_le<uint64_t>(req, offsetof(virtio_iommu_req_unmap, virt_end));
    if (end < start)
        return kInval;
    Domain* d = domain(domain_id);
    if (!d)
        return kNoEnt;
    if (d->bypass)
        return kInval;
    // §5.13.6.6.2: a mapping only partly inside the range would be split: RANGE, and nothing goes.
    for (const MapEntry& m : d->mappings) {
        const bool touches = m.start <= end && start <= m.end;
        const bool inside = start <= m.start && m.end <= end;
        if (touches && !inside)
            return kRange;
    }
    auto& ms = d->mappings;
    ms.erase(std::remove_if(ms.begin(), ms.end(), [&](const MapEntry& m) { return start <= m.start && m.end <= end; }),
             ms.end());
    return kOk;
}

Reply ReferenceModel::probe(std::span<const uint8_t> req, uint32_t writable)
{
    // probe_size bytes of properties (or the zeroes that stand for none) and the tail, for every answer
    // (§5.13.6.7); a smaller buffer gets the tail in its last four bytes.
    const auto len = static_cast<uint32_t>(std::min<uint64_t>(writable, uint64_t{config_.probe_size} + kTail));
    Reply reply{true, len, std::vector<uint8_t>(len, 0)};
    uint8_t status = kOk;
    const auto endpoint = req.size() >= kProbeLen ? read_le<uint32_t>(req, offsetof(virtio_iommu_req_probe, endpoint)) : 0;
    std::vector<std::size_t> regions;
    for (std::size_t r = 0; r < config_.reserved.size(); ++r)
        if (region_applies(r, endpoint))
            regions.push_back(r);
    const uint64_t needed = regions.size() * sizeof(virtio_iommu_probe_resv_mem);
    if (req.size() < kProbeLen)
        status = kInval;
    else if (!endpoint_exists(endpoint))
        status = kNoEnt;
    else if (writable < uint64_t{config_.probe_size} + kTail) // §5.13.6.7.2: no property, INVAL
        status = kInval;
    else if (needed > config_.probe_size)
        status = kInval;
    if (status == kOk) {
        std::size_t at = 0;
        for (std::size_t r : regions) {
            virtio_iommu_probe_resv_mem p{};
            p.head.type = VIRTIO_IOMMU_PROBE_T_RESV_MEM;
            p.head.length = sizeof p - sizeof p.head;
            p.subtype = config_.reserved[r].msi ? VIRTIO_IOMMU_RESV_MEM_T_MSI : VIRTIO_IOMMU_RESV_MEM_T_RESERVED;
            p.start = config_.reserved[r].start;
            p.end = config_.reserved[r].end;
            std::memcpy(reply.written.data() + at, &p, sizeof p);
            at += sizeof p;
        }
    }
    reply.written[len - kTail] = status;
    return reply;
}

Translated ReferenceModel::translate(uint32_t endpoint, uint64_t iova, bool write)
{
    // Identity reaches the end of the address space; the count saturates at 2^64 - 1 for iova 0.
    const Translated identity{true, iova, iova == 0 ? UINT64_MAX : 0 - iova, {}};
    auto fault = [&](uint8_t reason, uint32_t flags) {
        Translated t;
        // Reported on the event queue while the driver keeps buffers there and the device is live.
        if (!broken_ && config_.event_buffers > 0)
            t.faults.push_back({reason, flags | VIRTIO_IOMMU_FAULT_F_ADDRESS, endpoint, iova, true});
        return t;
    };
    if (!endpoint_exists(endpoint))
        return {}; // not this IOMMU's endpoint: no translation, no report
    const Domain* d = domain_of(endpoint);
    if (!d) {
        // §5.13.6: bypass for unattached endpoints comes from config.bypass when BYPASS_CONFIG is
        // offered, from the legacy BYPASS feature when that is negotiated.
        const bool bypass = offered(VIRTIO_IOMMU_F_BYPASS_CONFIG) ? bypass_ != 0 : negotiated(VIRTIO_IOMMU_F_BYPASS);
        if (bypass)
            return identity;
    } else if (d->bypass) {
        return identity;
    }
    // The endpoint's first reserved region holding iova: an MSI doorbell is reached untranslated, any
    // other reserved address faults.
    for (std::size_t r = 0; r < config_.reserved.size(); ++r) {
        const ReservedChoice& region = config_.reserved[r];
        if (!region_applies(r, endpoint) || iova < region.start || iova > region.end)
            continue;
        if (region.msi) {
            const uint64_t left = region.end - iova + 1;
            return {true, iova, left == 0 ? UINT64_MAX : left, {}};
        }
        return d ? fault(VIRTIO_IOMMU_FAULT_R_MAPPING, 0) : fault(VIRTIO_IOMMU_FAULT_R_DOMAIN, 0);
    }
    if (!d)
        return fault(VIRTIO_IOMMU_FAULT_R_DOMAIN, 0);
    for (const MapEntry& m : d->mappings) {
        if (iova < m.start || iova > m.end)
            continue;
        if (!write && !(m.flags & VIRTIO_IOMMU_MAP_F_READ))
            return fault(VIRTIO_IOMMU_FAULT_R_MAPPING, VIRTIO_IOMMU_FAULT_F_READ);
        if (write && !(m.flags & VIRTIO_IOMMU_MAP_F_WRITE))
            return fault(VIRTIO_IOMMU_FAULT_R_MAPPING, VIRTIO_IOMMU_FAULT_F_WRITE);
        const uint64_t left = m.end - iova + 1;
        return {true, m.phys + (iova - m.start), left == 0 ? UINT64_MAX : left, {}};
    }
    return fault(VIRTIO_IOMMU_FAULT_R_MAPPING, 0);
}

void ReferenceModel::write_bypass(uint8_t value)
{
    if (value == bypass_)
        return;
    // §5.13.4.1: only a driver that negotiated BYPASS_CONFIG may write bypass; QEMU gives up on one
    // that did not.
    if (!negotiated(VIRTIO_IOMMU_F_BYPASS_CONFIG)) {
        broken_ = true;
        return;
    }
    bypass_ = value;
}

void ReferenceModel::reset()
{
    // §5.13.5: after a reset no endpoint is attached; §5.13.4.2: bypass keeps its value.
    domains_.clear();
    broken_ = false;
}

} // namespace viommu::fuzz
