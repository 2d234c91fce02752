#include "guest-model/virtio-iommu/driver.h"

#include <algorithm>
#include <array>
#include <bit>

#include <linux/virtio_ids.h>

#include "guest-model/driver-core/dev_printk.h"
#include "guest-model/kernel/errno.h"
#include "guest-model/virtio-iommu/requests.h"
#include "guest-model/virtio-iommu/wire_fields.h"
#include "guest-model/virtio-iommu/x_noncoherent.h"

namespace viommu::guest::virtio_iommu {

namespace {

constexpr unsigned kRequestQueue = 0;
constexpr unsigned kEventQueue = 1;
constexpr uint64_t kPageSize = 4096;         // PAGE_SIZE of the modelled guest (x86-64, arm64 4K)
constexpr uint64_t kMsiIovaBase = 0x8000000; // MSI_IOVA_BASE, for IOMMU_RESV_SW_MSI
constexpr uint64_t kMsiIovaLength = 0x100000;
constexpr uint32_t kEventSize = FaultEvent::kSize; // struct viommu_event: 24 bytes

// The driver's copy of a request, as viommu_send_req_sync() lays it out in one buffer: the readable
// part, then the writable part zeroed (PROBE's properties, then the tail).
std::vector<uint8_t> request_buffer(const req::Encoded& request)
{
    std::vector<uint8_t> buf = request.readable_vector();
    buf.resize(buf.size() + request.writable_len, 0);
    return buf;
}

// viommu_get_req_errno(): the tail's status, at the end of the request buffer.
int req_errno(std::span<const uint8_t> writable)
{
    switch (req::tail_status(writable).value_or(VIRTIO_IOMMU_S_IOERR)) {
    case VIRTIO_IOMMU_S_OK: return 0;
    case VIRTIO_IOMMU_S_UNSUPP: return -kernel::kENOSYS;
    case VIRTIO_IOMMU_S_INVAL: return -kernel::kEINVAL;
    case VIRTIO_IOMMU_S_RANGE: return -kernel::kERANGE;
    case VIRTIO_IOMMU_S_NOENT: return -kernel::kENOENT;
    case VIRTIO_IOMMU_S_FAULT: return -kernel::kEFAULT;
    case VIRTIO_IOMMU_S_NOMEM: return -kernel::kENOMEM;
    case VIRTIO_IOMMU_S_IOERR:
    case VIRTIO_IOMMU_S_DEVERR:
    default: return -kernel::kEIO;
    }
}

// order_base_2(): the bits needed to address up to `end`.
unsigned order_base_2(uint64_t end)
{
    return end <= 1 ? 0 : 64 - static_cast<unsigned>(std::countl_zero(end - 1));
}

} // namespace

// The driver's part of an IOMMU domain (struct viommu_domain).
class ViommuDomain final : public iommu::Domain {
public:
    struct Mapping {
        uint64_t end;
        uint64_t paddr;
        uint32_t flags;
    };
    ViommuDomain(iommu::DomainType type, ViommuDriver& owner) : Domain(type), owner_(owner) {}
    ~ViommuDomain() override
    {
        // viommu_domain_free(): the ID goes back to the IDA; nothing is sent to the device.
        if (id)
            owner_.domain_ids_.erase(*id);
    }
    std::optional<uint32_t> id; // assigned at the first attach (viommu_domain_finalise)
    bool bypass = false;
    // viommu_identity_domain (0d76a6edae9e): the one static bypass domain. It takes no ID from the IDA;
    // ATTACH names the reserved identity_domain_id, and its own id field stays 0.
    bool static_identity = false;
    bool finalised = false;
    std::map<uint64_t, Mapping> mappings; // the driver's interval tree, by start
    unsigned nr_endpoints = 0;

private:
    ViommuDriver& owner_;
};

ViommuDriver::ViommuDriver(driver_core::Device& vdev, virtio_drivers::VirtioTransport& transport, Context context, ViommuBehaviour behaviour)
    : vdev_(vdev), name_(vdev.name()), transport_(transport), ctx_(std::move(context)), behaviour_(behaviour)
{
}

ViommuDriver::~ViommuDriver() = default;

int ViommuDriver::probe()
{
    // virtio_dev_probe(): reset, ACKNOWLEDGE, DRIVER, then the features the driver's table and the
    // ring transport accept among those offered (drivers/virtio/virtio.c, virtio_ring.c).
    if (auto ok = transport_.probe(); !ok) {
        ctx_.log.print(kernel::LogLevel::err, "{}: {}", transport_.name(), ok.error());
        return -kernel::kENODEV;
    }
    transport_.reset();
    transport_.add_status(virtio::status::kAcknowledge);
    transport_.add_status(virtio::status::kDriver);
    virtio::FeatureBits table = virtio::feature(VIRTIO_IOMMU_F_MAP_UNMAP) | virtio::feature(VIRTIO_IOMMU_F_INPUT_RANGE) |
                                virtio::feature(VIRTIO_IOMMU_F_DOMAIN_RANGE) | virtio::feature(VIRTIO_IOMMU_F_PROBE) |
                                virtio::feature(VIRTIO_IOMMU_F_MMIO);
    if (behaviour_.bypass_config)
        table |= virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
    if (behaviour_.x_noncoherent)
        table |= virtio::feature(x_noncoherent::kFeature); // experimental, not from any published spec
    const virtio::FeatureBits transport_bits = virtio::feature(virtio::kFVersion1) |
                                               virtio::feature(virtio::kFIndirectDesc) |
                                               virtio::feature(virtio::kFEventIdx) |
                                               // ring_transport_features() drops it before 5.0 (1ce9e6055fa0)
                                               virtio::feature(virtio::kFRingPacked);
    const virtio::FeatureBits offered = transport_.device_features();
    if (auto ok = transport_.finalize_features(offered & (table | transport_bits)); !ok) {
        dev_err(ctx_.log, vdev_, "{}", ok.error());
        transport_.add_status(virtio::status::kFailed);
        return -kernel::kENODEV;
    }
    // viommu_probe(): "if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1) || !virtio_has_feature(vdev,
    // VIRTIO_IOMMU_F_MAP_UNMAP)) return -ENODEV;" without a message.
    const virtio::FeatureBits got = transport_.negotiated();
    auto has = [&](unsigned bit) { return (got & virtio::feature(bit)) != 0; };
    if (!has(VIRTIO_IOMMU_F_MAP_UNMAP)) {
        transport_.add_status(virtio::status::kFailed);
        return -kernel::kENODEV;
    }
    // viommu_init_vqs(): virtio_find_vqs() with no callback for requests, which the driver polls.
    const virtio_drivers::VqRequest queues[] = {{kRequestQueue, nullptr}, {kEventQueue, [this] { event_handler(); }}};
    if (auto ok = transport_.find_vqs(queues); !ok)
        return -kernel::kENOMEM;

    // The configuration, each optional field only with its feature (virtio_cread_le_feature()).
    page_size_mask_ = transport_.config_read(offsetof(virtio_iommu_config, page_size_mask), 8);
    geometry_ = {0, UINT64_MAX};
    if (has(VIRTIO_IOMMU_F_INPUT_RANGE)) {
        geometry_.aperture_start = transport_.config_read(offsetof(virtio_iommu_config, input_range.start), 8);
        geometry_.aperture_end = transport_.config_read(offsetof(virtio_iommu_config, input_range.end), 8);
    }
    if (has(VIRTIO_IOMMU_F_DOMAIN_RANGE)) {
        first_domain_ = static_cast<uint32_t>(transport_.config_read(offsetof(virtio_iommu_config, domain_range.start), 4));
        last_domain_ = static_cast<uint32_t>(transport_.config_read(offsetof(virtio_iommu_config, domain_range.end), 4));
    }
    if (has(VIRTIO_IOMMU_F_PROBE))
        probe_size_ = static_cast<uint32_t>(transport_.config_read(offsetof(virtio_iommu_config, probe_size), 4));
    if (page_size_mask_ == 0) {
        transport_.add_status(virtio::status::kFailed);
        return -kernel::kEINVAL;
    }
    map_flags_ = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
    if (has(VIRTIO_IOMMU_F_MMIO))
        map_flags_ |= VIRTIO_IOMMU_MAP_F_MMIO;
    // "Reserve an ID to use as the bypass domain" (0d76a6edae9e): whether or not any group ever goes
    // into identity, paging domains then count from the next ID.
    if (behaviour_.identity_domain_static && has(VIRTIO_IOMMU_F_BYPASS_CONFIG)) {
        identity_domain_id_ = first_domain_;
        ++first_domain_;
    }

    transport_.driver_ok(); // virtio_device_ready()
    if (int err = fill_event_queue(); err)
        return err;
    ready_ = true;
    dev_info(ctx_.log, vdev_, "input address: {} bits", order_base_2(geometry_.aperture_end));
    dev_info(ctx_.log, vdev_, "page mask: {:#x}", page_size_mask_);
    return 0;
}

int ViommuDriver::fill_event_queue()
{
    // viommu_fill_evtq(): one 24-byte buffer for every free descriptor, added without a kick.
    virtio_drivers::DriverQueue* vq = transport_.vq(kEventQueue);
    nr_events_ = vq->num_free();
    const auto events = ctx_.allocator.alloc(uint64_t{nr_events_} * kEventSize);
    if (!events)
        return -kernel::kENOMEM;
    events_ = *events;
    for (uint32_t i = 0; i < nr_events_; ++i) {
        const virtio_drivers::Buf in{GuestAddr(events_.value() + uint64_t{i} * kEventSize), kEventSize};
        if (!vq->add({}, std::span(&in, 1), in.addr.value()))
            return -kernel::kENOSPC;
    }
    return 0;
}

void ViommuDriver::event_handler()
{
    virtio_drivers::DriverQueue* vq = transport_.vq(kEventQueue);
    while (auto used = vq->get_buf()) {
        const GuestAddr buf(used->token);
        if (used->len > kEventSize) {
            dev_err(ctx_.log, vdev_, "invalid event buffer (len {} != {})", used->len, kEventSize);
        } else {
            std::array<uint8_t, kEventSize> report{};
            (void)ctx_.memory.read(buf, report);
            const FaultEvent fault = *parse_fault_event(report);
            // VIOMMU_FAULT_RESV_MASK: a report with non-zero reserved bytes is ignored (5.13.6.9.1).
            if (fault.head_reserved_zero())
                fault_handler(fault);
        }
        const virtio_drivers::Buf in{buf, kEventSize};
        if (!vq->add({}, std::span(&in, 1), buf.value()))
            dev_err(ctx_.log, vdev_, "could not add event buffer");
    }
    transport_.kick(kEventQueue);
}

void ViommuDriver::fault_handler(const FaultEvent& fault)
{
    ++faults_;
    const char* reason = fault.reason == FaultReason::kDomain    ? "domain"
                         : fault.reason == FaultReason::kMapping ? "page"
                                                                 : "unknown";
    // dev_err_ratelimited()
    if (!fault_ratelimit_.allow(ctx_.log, ctx_.clock.now()))
        return;
    if (fault.has_address())
        dev_err(ctx_.log, vdev_, "{} fault from EP {} at {:#x} [{}{}{}]", reason, fault.endpoint, fault.address,
                fault.read() ? "R" : "", fault.write() ? "W" : "", fault.exec() ? "X" : "");
    else
        dev_err(ctx_.log, vdev_, "{} fault from EP {}", reason, fault.endpoint);
}

int ViommuDriver::add_req(std::vector<uint8_t>& buf, uint32_t write_offset, std::vector<uint8_t>* writeback)
{
    // __viommu_add_req(): a copy of the request in kernel memory, posted as one readable and one
    // writable part; no kick. A full ring is drained first, once.
    if (write_offset == 0 || write_offset >= buf.size())
        return -kernel::kEINVAL;
    const uint32_t len = static_cast<uint32_t>(buf.size());
    const auto mem = ctx_.allocator.alloc(len);
    if (!mem)
        return -kernel::kENOMEM;
    (void)ctx_.memory.write(*mem, buf);
    const virtio_drivers::Buf out{*mem, write_offset};
    const virtio_drivers::Buf in{GuestAddr(mem->value() + write_offset), len - write_offset};
    const uint64_t token = next_token_++;
    virtio_drivers::DriverQueue* vq = transport_.vq(kRequestQueue);
    auto added = vq->add(std::span(&out, 1), std::span(&in, 1), token);
    if (!added && added.error() == virtio_drivers::AddError::kNoSpace) {
        sync_req();
        added = vq->add(std::span(&out, 1), std::span(&in, 1), token);
    }
    if (!added) {
        ctx_.allocator.free(*mem, len);
        return added.error() == virtio_drivers::AddError::kNoMemory ? -kernel::kENOMEM : -kernel::kENOSPC;
    }
    requests_.emplace(token, Request{*mem, len, write_offset, writeback});
    // struct virtio_iommu_req_head starts with the request's type.
    (buf[0] == VIRTIO_IOMMU_T_MAP     ? traffic_.map
     : buf[0] == VIRTIO_IOMMU_T_UNMAP ? traffic_.unmap
                                      : traffic_.other)++;
    return 0;
}

int ViommuDriver::sync_req()
{
    // __viommu_sync_req(): kick, then poll until every request came back. A used length of 0 marks the
    // driver's copy IOERR; the caller's buffer gets the writable part back only when the device wrote
    // exactly all of it, so an unwritten reply leaves the caller's zeroed tail: S_OK.
    if (requests_.empty())
        return 0;
    ++traffic_.syncs;
    virtio_drivers::DriverQueue* vq = transport_.vq(kRequestQueue);
    transport_.kick(kRequestQueue);
    while (!requests_.empty()) {
        transport_.wait_used(kRequestQueue);
        bool progress = false;
        while (auto used = vq->get_buf()) {
            progress = true;
            const auto it = requests_.find(used->token);
            if (it == requests_.end())
                continue;
            const Request& r = it->second;
            const uint32_t write_len = r.len - r.write_offset;
            if (r.writeback && used->len == write_len)
                (void)ctx_.memory.read(GuestAddr(r.buf.value() + r.write_offset),
                                       std::span(r.writeback->data() + r.write_offset, write_len));
            ctx_.allocator.free(r.buf, r.len);
            requests_.erase(it);
        }
        if (!progress) {
            // The real driver spins here for ever (the device stopped answering, e.g. NEEDS_RESET).
            hung_ = true;
            return -kernel::kEIO;
        }
    }
    return 0;
}

ViommuDriver::Traffic ViommuDriver::traffic() const
{
    Traffic t = traffic_;
    t.kicks = transport_.notifications_sent();
    return t;
}

int ViommuDriver::send_req_sync(std::vector<uint8_t>& buf, uint32_t write_offset)
{
    if (int err = add_req(buf, write_offset, &buf); err) {
        dev_dbg(ctx_.log, vdev_, "could not add request ({})", err);
        return err;
    }
    if (int err = sync_req(); err) {
        dev_dbg(ctx_.log, vdev_, "could not sync requests ({})", err);
        return err;
    }
    return req_errno(std::span(buf).subspan(write_offset));
}

int ViommuDriver::probe_device(driver_core::Device& dev, const std::vector<uint32_t>& ids)
{
    // viommu_probe_device(): the instance is looked up by the endpoint's firmware node. From bcb81ac6ae3c
    // (6.15) until 72b6f7cd89ce (6.17, 6.16.4) that lookup failed for every endpoint: -ENODEV.
    if (!ready_ || !behaviour_.instance_lookup_works)
        return -kernel::kENODEV;
    Endpoint ep;
    ep.ids = ids;
    if (probe_size_) {
        if (int err = probe_endpoint(dev, ep); err)
            return err;
    }
    endpoints_[&dev] = std::move(ep);
    return 0;
}

int ViommuDriver::probe_endpoint(driver_core::Device& dev, Endpoint& ep)
{
    // viommu_probe_endpoint(): only the first ID is probed ("assume that properties of an endpoint that
    // outputs multiple IDs are consistent").
    if (ep.ids.empty())
        return -kernel::kEINVAL;
    const auto request = req::encode(req::Probe{.endpoint = ep.ids[0], .probe_size = probe_size_});
    std::vector<uint8_t> buf = request_buffer(request);
    if (int err = send_req_sync(buf, request.readable_len); err)
        return err;
    (void)dev;
    // Every property is handled, an overrunning last one included (its value cut at probe_size); an
    // error is logged for each property from the first failure on, as Linux keeps `ret` across them.
    int ret = 0;
    probe::Walker props{std::span(buf).subspan(request.readable_len, probe_size_)};
    while (const auto prop = props.next()) {
        if (prop->type == VIRTIO_IOMMU_PROBE_T_RESV_MEM)
            ret = add_resv_mem(ep, *prop);
        else if (prop->type == x_noncoherent::kProbeType &&
                 (transport_.negotiated() & virtio::feature(x_noncoherent::kFeature)))
            ret = add_x_noncoherent(ep, *prop);
        else
            dev_err(ctx_.log, vdev_, "unknown viommu prop {:#x}", prop->type);
        if (ret)
            dev_err(ctx_.log, vdev_, "failed to parse viommu prop {:#x}", prop->type);
    }
    return ret;
}

int ViommuDriver::add_resv_mem(Endpoint& ep, const probe::RawProperty& prop)
{
    const probe::ResvMem mem = probe::read_resv_mem(prop.value);
    const uint64_t start = mem.start;
    const uint64_t end = mem.end;
    const uint64_t size = end - start + 1;
    if (start > end || size == 0)
        return -kernel::kEOVERFLOW;
    if (!probe::resv_mem_length_ok(prop.length))
        return -kernel::kEINVAL;
    iommu::ResvRegion r{start, size, 0, iommu::ResvType::kReserved};
    switch (mem.subtype) {
    default:
        dev_warn(ctx_.log, vdev_, "unknown resv mem subtype {:#x}", mem.subtype);
        [[fallthrough]];
    case VIRTIO_IOMMU_RESV_MEM_T_RESERVED: break;
    case VIRTIO_IOMMU_RESV_MEM_T_MSI:
        r.type = iommu::ResvType::kMsi;
        r.prot = iommu::prot::kWrite | iommu::prot::kNoexec | iommu::prot::kMmio;
        break;
    }
    // Kept sorted by start (561097941564, "iommu/virtio: Sort reserved regions").
    ep.resv.insert(std::upper_bound(ep.resv.begin(), ep.resv.end(), r,
                                    [](const iommu::ResvRegion& a, const iommu::ResvRegion& b) { return a.start < b.start; }),
                   r);
    return 0;
}

int ViommuDriver::add_x_noncoherent(Endpoint& ep, const probe::RawProperty& prop)
{
    // As viommu_add_resv_mem() does for its own layout: a value shorter than the layout is -EINVAL.
    if (prop.length < x_noncoherent::kValueSize)
        return -kernel::kEINVAL;
    std::array<uint8_t, x_noncoherent::kValueSize> value{};
    std::copy_n(prop.value.begin(), std::min(prop.value.size(), value.size()), value.begin());
    ep.noncoherent = (wire_fields::load_le<uint32_t>(value.data()) & x_noncoherent::kFlagNoSnoop) != 0;
    return 0;
}

void ViommuDriver::release_device(driver_core::Device& dev)
{
    const auto it = endpoints_.find(&dev);
    if (it == endpoints_.end())
        return;
    Endpoint& ep = it->second;
    if (behaviour_.detach_on_release && ep.vdomain && (ep.vdomain->id || ep.vdomain->static_identity)) {
        // viommu_detach_dev() sends vdomain->id, which for the static bypass domain is 0 whatever ID
        // its ATTACH named.
        const uint32_t domain_id = ep.vdomain->static_identity ? 0u : *ep.vdomain->id;
        for (uint32_t id : ep.ids) {
            const auto request = req::encode(req::Detach{.domain = domain_id, .endpoint = id});
            std::vector<uint8_t> buf = request_buffer(request);
            (void)send_req_sync(buf, request.readable_len);
        }
        --ep.vdomain->nr_endpoints;
    }
    endpoints_.erase(it);
}

std::vector<iommu::ResvRegion> ViommuDriver::resv_regions(driver_core::Device& dev)
{
    std::vector<iommu::ResvRegion> out;
    const auto it = endpoints_.find(&dev);
    bool msi = false;
    if (it != endpoints_.end()) {
        out = it->second.resv;
        msi = std::any_of(out.begin(), out.end(), [](const auto& r) { return r.type == iommu::ResvType::kMsi; });
    }
    // "If the device didn't register any bypass MSI window, add a software-mapped region."
    if (!msi)
        out.push_back({kMsiIovaBase, kMsiIovaLength, iommu::prot::kWrite | iommu::prot::kNoexec | iommu::prot::kMmio,
                       iommu::ResvType::kSwMsi});
    return out;
}

bool ViommuDriver::capable(driver_core::Device& dev, iommu::Cap cap) const
{
    switch (cap) {
    case iommu::Cap::kCacheCoherency: {
        // The seed's first patch answers true for every endpoint; with the experimental extension
        // negotiated, an endpoint the device marked non-coherent is answered false, so that VFIO's
        // coherency rule (e8ae0e140c05) refuses exactly those.
        if (!behaviour_.cap_cache_coherency)
            return false;
        const auto it = endpoints_.find(&dev);
        return it == endpoints_.end() || !it->second.noncoherent;
    }
    case iommu::Cap::kDeferredFlush: return behaviour_.cap_deferred_flush;
    case iommu::Cap::kIntrRemap:
    case iommu::Cap::kNoexec:
    case iommu::Cap::kPreSetDmaReg:
    case iommu::Cap::kEnforceCacheCoherency:
    case iommu::Cap::kDirtyTracking: return false;
    }
    return false;
}

std::unique_ptr<iommu::Domain> ViommuDriver::domain_alloc(iommu::DomainType type)
{
    // viommu_domain_alloc(): UNMANAGED, DMA and IDENTITY. DMA-FQ is refused: from v5.15 to v6.4 the
    // core asked for it and fell back to DMA; since v6.5 the core asks for DMA only (a4fdd9762272).
    // Identity needs BYPASS_CONFIG support or full identity mappings, both from v5.17.
    switch (type) {
    case iommu::DomainType::kUnmanaged:
    case iommu::DomainType::kDma: return std::make_unique<ViommuDomain>(type, *this);
    case iommu::DomainType::kDmaFq: return nullptr;
    case iommu::DomainType::kIdentity:
        if (!behaviour_.bypass_config)
            return nullptr;
        return std::make_unique<ViommuDomain>(type, *this);
    case iommu::DomainType::kBlocked: return nullptr;
    }
    return nullptr;
}

int ViommuDriver::domain_finalise(ViommuDomain& vdomain, const Endpoint& ep)
{
    // viommu_domain_alloc_identity() hands out the static domain when BYPASS_CONFIG was negotiated:
    // no granule check and no ID of its own.
    if (identity_domain_id_ && vdomain.type() == iommu::DomainType::kIdentity) {
        vdomain.static_identity = true;
        vdomain.bypass = true;
        vdomain.finalised = true;
        return 0;
    }
    const uint64_t granule = page_size_mask_ & (~page_size_mask_ + 1);
    if (granule > kPageSize) {
        dev_err(ctx_.log, vdev_, "granule {:#x} larger than system page size {:#x}", granule, kPageSize);
        return -kernel::kENODEV;
    }
    // ida_alloc_range(&viommu->domain_ids, first_domain, last_domain): the lowest free ID (the IDA caps
    // its range at INT_MAX).
    const uint32_t last = std::min<uint32_t>(last_domain_, 0x7fffffff);
    uint32_t id = first_domain_;
    for (uint32_t used : domain_ids_) {
        if (used < id)
            continue;
        if (used != id)
            break;
        ++id;
    }
    if (id > last || id < first_domain_)
        return -kernel::kENOSPC;
    domain_ids_.insert(id);
    vdomain.id = id;
    vdomain.finalised = true;
    if (vdomain.type() != iommu::DomainType::kIdentity)
        return 0;
    if (transport_.negotiated() & virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG)) {
        vdomain.bypass = true;
        return 0;
    }
    // viommu_domain_map_identity(): the aperture, aligned to the granule, identity-mapped read/write
    // around the first endpoint's reserved regions.
    const uint32_t flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
    uint64_t iova = (geometry_.aperture_start + granule - 1) & ~(granule - 1);
    const uint64_t limit = ((geometry_.aperture_end + 1) & ~(granule - 1)) - 1; // wraps to 2^64-1 at the top
    for (const iommu::ResvRegion& r : ep.resv) {
        const uint64_t resv_start = r.start & ~(granule - 1);
        const uint64_t resv_end = ((r.start + r.length + granule - 1) & ~(granule - 1)) - 1;
        if (resv_end < iova || resv_start > limit)
            continue;
        if (resv_start > iova)
            vdomain.mappings[iova] = {resv_start - 1, iova, flags};
        if (resv_end >= limit)
            return 0;
        iova = resv_end + 1;
    }
    vdomain.mappings[iova] = {limit, iova, flags};
    return 0;
}

int ViommuDriver::send_map(ViommuDomain& vdomain, uint64_t iova, uint64_t end, uint64_t paddr, uint32_t flags, bool sync)
{
    const auto request = req::encode(
        req::Map{.domain = *vdomain.id, .virt_start = iova, .virt_end = end, .phys_start = paddr, .flags = flags});
    std::vector<uint8_t> buf = request_buffer(request);
    const uint32_t write_offset = request.readable_len;
    if (sync)
        return send_req_sync(buf, write_offset);
    if (int err = add_req(buf, write_offset, nullptr); err) {
        dev_dbg(ctx_.log, vdev_, "could not add request: {}", err);
        return err;
    }
    return 0;
}

int ViommuDriver::replay_mappings(ViommuDomain& vdomain)
{
    for (const auto& [iova, m] : vdomain.mappings)
        if (int err = send_map(vdomain, iova, m.end, m.paddr, m.flags, true); err)
            return err;
    return 0;
}

int ViommuDriver::attach_dev(iommu::Domain& domain, driver_core::Device& dev)
{
    auto& vdomain = static_cast<ViommuDomain&>(domain);
    const auto it = endpoints_.find(&dev);
    if (it == endpoints_.end())
        return -kernel::kENODEV;
    Endpoint& ep = it->second;
    if (!vdomain.finalised)
        if (int err = domain_finalise(vdomain, ep); err)
            return err;
    // No DETACH: the device moves the endpoint (5.13.6.3.2), so the old domain just loses a user.
    if (ep.vdomain)
        --ep.vdomain->nr_endpoints;
    const uint32_t domain_id = vdomain.static_identity ? *identity_domain_id_ : *vdomain.id;
    for (uint32_t id : ep.ids) {
        const auto request = req::encode(req::Attach{
            .domain = domain_id, .endpoint = id, .flags = vdomain.bypass ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0u});
        std::vector<uint8_t> buf = request_buffer(request);
        if (int err = send_req_sync(buf, request.readable_len); err)
            return err;
    }
    // The first endpoint of a domain: replay what was mapped before anyone could use it.
    if (vdomain.nr_endpoints == 0)
        if (int err = replay_mappings(vdomain); err)
            return err;
    ++vdomain.nr_endpoints;
    ep.vdomain = &vdomain;
    return 0;
}

int ViommuDriver::map_pages(iommu::Domain& domain, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount,
                            int prot, uint64_t& mapped)
{
    auto& vdomain = static_cast<ViommuDomain&>(domain);
    const uint64_t size = pgsize * pgcount;
    const uint32_t flags = (prot & iommu::prot::kRead ? VIRTIO_IOMMU_MAP_F_READ : 0) |
                           (prot & iommu::prot::kWrite ? VIRTIO_IOMMU_MAP_F_WRITE : 0) |
                           (prot & iommu::prot::kMmio ? VIRTIO_IOMMU_MAP_F_MMIO : 0);
    if (flags & ~map_flags_)
        return -kernel::kEINVAL;
    const uint64_t end = iova + size - 1;
    vdomain.mappings[iova] = {end, paddr, flags};
    if (vdomain.nr_endpoints) {
        if (int err = send_map(vdomain, iova, end, paddr, flags, !behaviour_.map_batched); err) {
            vdomain.mappings.erase(iova);
            return err;
        }
    }
    mapped = size;
    return 0;
}

uint64_t ViommuDriver::unmap_pages(iommu::Domain& domain, uint64_t iova, uint64_t pgsize, uint64_t pgcount)
{
    auto& vdomain = static_cast<ViommuDomain&>(domain);
    const uint64_t size = pgsize * pgcount;
    const uint64_t end = iova + size - 1;
    // viommu_del_mappings(): whole mappings that start inside the range, walked in order; one that
    // starts before it (a split) stops the walk, so nothing is removed and nothing unmapped.
    uint64_t unmapped = 0;
    if (auto before = vdomain.mappings.lower_bound(iova); before != vdomain.mappings.begin() &&
                                                          std::prev(before)->second.end >= iova)
        return 0;
    for (auto m = vdomain.mappings.lower_bound(iova); m != vdomain.mappings.end() && m->first <= end;) {
        unmapped += m->second.end - m->first + 1;
        m = vdomain.mappings.erase(m);
    }
    if (unmapped < size)
        return 0;
    if (!vdomain.nr_endpoints)
        return unmapped;
    const auto request =
        req::encode(req::Unmap{.domain = *vdomain.id, .virt_start = iova, .virt_end = iova + unmapped - 1});
    std::vector<uint8_t> buf = request_buffer(request);
    if (int err = add_req(buf, request.readable_len, nullptr); err) {
        dev_dbg(ctx_.log, vdev_, "could not add request: {}", err);
        return 0;
    }
    return unmapped;
}

void ViommuDriver::iotlb_sync_map(iommu::Domain& domain)
{
    if (static_cast<ViommuDomain&>(domain).nr_endpoints)
        (void)sync_req();
}

void ViommuDriver::iotlb_sync(iommu::Domain&)
{
    (void)sync_req();
}

void ViommuDriver::flush_iotlb_all(iommu::Domain& domain)
{
    if (static_cast<ViommuDomain&>(domain).nr_endpoints)
        (void)sync_req();
}

} // namespace viommu::guest::virtio_iommu
