#include "hw/virtio-iommu/domains.h"

#include <algorithm>

#include "base/checked.h"

namespace viommu::hw::virtio_iommu {

Domains::Domains(const IommuConfig& config) : config_(&config)
{
    for (uint32_t i = 0; i < config.reserved.size(); ++i)
        (config.reserved[i].endpoints.empty() ? global_reserved_ : per_endpoint_reserved_).push_back(i);
}

VirtioIommuDomain* Domains::find_mut(DomainId domain)
{
    const auto it = domains_.find(domain);
    return it == domains_.end() ? nullptr : it->second.get();
}

const VirtioIommuDomain* Domains::find(DomainId domain) const
{
    const auto it = domains_.find(domain);
    return it == domains_.end() ? nullptr : it->second.get();
}

std::vector<const VirtioIommuDomain*> Domains::all() const
{
    std::vector<const VirtioIommuDomain*> out;
    for (const auto& [id, d] : domains_)
        out.push_back(d.get());
    std::sort(out.begin(), out.end(), [](const VirtioIommuDomain* a, const VirtioIommuDomain* b) { return a->id < b->id; });
    return out;
}

void Domains::notify_each(const VirtioIommuDomain& d, const Mapping& m, bool mapped) const
{
    for (EndpointId ep : d.endpoints) {
        const auto it = listeners_.find(ep);
        if (it == listeners_.end())
            continue;
        if (mapped)
            it->second->on_map(ep, m);
        else
            it->second->on_unmap(ep, m);
    }
}

void Domains::remove_endpoint(VirtioIommuDomain& d, EndpointId endpoint)
{
    if (const auto it = listeners_.find(endpoint); it != listeners_.end())
        d.mappings.for_each([&](const Mapping& m) { it->second->on_unmap(endpoint, m); });
    d.endpoints.erase(std::find(d.endpoints.begin(), d.endpoints.end(), endpoint));
    count_endpoint_reserved(d, endpoint, false);
    if (spare_nodes_.size() < config_->limits.max_attached_endpoints)
        spare_nodes_.push_back(attached_.extract(endpoint));
    else
        attached_.erase(endpoint);
    // §5.13.6.4: "After all endpoints have been successfully detached from a domain, it ceases to exist
    // and its ID can be reused by the driver for another domain."
    if (d.endpoints.empty()) {
        mappings_ -= d.mappings.size();
        domains_.erase(d.id);
    }
}

Expected<void, Error> Domains::apply(const AttachRequest& r)
{
    const auto [domain, endpoint, bypass] = r;
    // §5.13.6.3.2: "If the endpoint identified by endpoint doesn't exist, the device MUST reject the
    // request and set status to VIRTIO_IOMMU_S_NOENT."
    if (!config_->endpoint_exists(endpoint))
        return unexpected(Error::kNoSuchEndpoint);
    // The spec gives no status for a domain outside domain_range (§5.13.6.1 only forbids the driver to
    // send one); RANGE is the status for out-of-range parameters.
    if (domain.value() < config_->domain_start || domain.value() > config_->domain_end)
        return unexpected(Error::kDomainOutOfRange);
    VirtioIommuDomain* target = find_mut(domain);
    // "If the domain already exists and the VIRTIO_IOMMU_ATTACH_F_BYPASS flag is not consistent with
    // that domain, the device SHOULD reject the request and set status to VIRTIO_IOMMU_S_INVAL."
    if (target && target->bypass != bypass)
        return unexpected(Error::kBypassMismatch);

    const auto current = attached_.find(endpoint);
    VirtioIommuDomain* previous = current == attached_.end() ? nullptr : current->second;
    if (previous == target && target)
        return {}; // already attached there: nothing changes
    // Limits, counted after the implicit detach so that moving an endpoint never fails for lack of room
    // it would free itself. A rejected ATTACH changes nothing.
    const bool frees_domain = previous && previous->endpoints.size() == 1;
    if (!target && domains_.size() - (frees_domain ? 1 : 0) >= config_->limits.max_domains)
        return unexpected(Error::kTooManyDomains);
    if (!previous && attached_.size() >= config_->limits.max_attached_endpoints)
        return unexpected(Error::kTooManyEndpoints);

    // "If the endpoint ... is already attached to another domain, then the device SHOULD first detach it
    // from that domain and attach it to the one identified by domain."
    if (previous)
        remove_endpoint(*previous, endpoint);
    if (!target) {
        auto d = std::make_unique<VirtioIommuDomain>();
        d->id = domain;
        d->bypass = bypass;
        target = d.get();
        domains_.emplace(domain, std::move(d));
    }
    target->endpoints.push_back(endpoint);
    count_endpoint_reserved(*target, endpoint, true);
    if (!spare_nodes_.empty()) {
        auto node = std::move(spare_nodes_.back());
        spare_nodes_.pop_back();
        node.key() = endpoint;
        node.mapped() = target;
        attached_.insert(std::move(node));
    } else {
        attached_.emplace(endpoint, target);
    }
    // The endpoint now reaches every mapping of its new domain: tell its listener (QEMU replays the
    // domain's mappings to the endpoint's notifiers on attach).
    if (const auto it = listeners_.find(endpoint); it != listeners_.end())
        target->mappings.for_each([&, ep = endpoint](const Mapping& m) { it->second->on_map(ep, m); });
    return {};
}

Expected<void, Error> Domains::apply(const DetachRequest& r)
{
    const auto [domain, endpoint] = r;
    // §5.13.6.4.2: a missing endpoint MUST be NOENT; a missing domain, or an endpoint that is not attached
    // to it, MAY be INVAL (QEMU answers INVAL for both).
    if (!config_->endpoint_exists(endpoint))
        return unexpected(Error::kNoSuchEndpoint);
    const auto current = attached_.find(endpoint);
    if (current == attached_.end() || current->second->id != domain)
        return unexpected(Error::kNotAttached);
    remove_endpoint(*current->second, endpoint);
    return {};
}

void Domains::count_endpoint_reserved(VirtioIommuDomain& d, EndpointId endpoint, bool attached)
{
    auto& counts = d.endpoint_reserved;
    for (uint32_t index : per_endpoint_reserved_) {
        if (!config_->reserved[index].applies_to(endpoint))
            continue;
        const auto it = std::lower_bound(counts.begin(), counts.end(), std::pair{index, uint32_t{0}});
        const bool counted = it != counts.end() && it->first == index;
        if (attached && counted)
            ++it->second;
        else if (attached)
            counts.insert(it, {index, 1});
        else if (--it->second == 0) // counted when the endpoint was attached
            counts.erase(it);
    }
}

bool Domains::overlaps_region(uint32_t index, IovaRange range) const
{
    ++reserved_region_checks_;
    const ReservedRegion& r = config_->reserved[index];
    return r.range.intersects(range);
}

bool Domains::overlaps_reserved(const VirtioIommuDomain& d, IovaRange range, bool attached_regions) const
{
    // A domain always has an endpoint (it ceases to exist with its last one), so every global region
    // applies to it.
    for (uint32_t index : global_reserved_)
        if (overlaps_region(index, range))
            return true;
    if (attached_regions)
        for (const auto& [index, endpoints] : d.endpoint_reserved)
            if (overlaps_region(index, range))
                return true;
    return false;
}

Expected<void, Error> Domains::apply(const MapRequest& r)
{
    return map(r, true);
}

Expected<void, Error> Domains::apply_restored(const MapRequest& r)
{
    return map(r, false);
}

Expected<void, Error> Domains::map(const MapRequest& r, bool attached_regions)
{
    const auto& [domain, m] = r;
    // §5.13.6.5.2: "If domain does not exist, the device SHOULD reject the request and set status to
    // VIRTIO_IOMMU_S_NOENT." / "If the domain is a bypass domain, ... VIRTIO_IOMMU_S_INVAL."
    VirtioIommuDomain* d = find_mut(domain);
    if (!d)
        return unexpected(Error::kNoSuchDomain);
    if (d->bypass)
        return unexpected(Error::kBypassDomain);
    // §5.13.6: with INPUT_RANGE, "Any mapping request to virtual addresses outside of this range fails."
    if (m.iova.first.value() < config_->input_start || m.iova.last.value() > config_->input_end)
        return unexpected(Error::kOutsideInputRange);
    // "If virt_start, phys_start or (virt_end + 1) is not aligned on the page granularity, the device
    // SHOULD reject the request and set status to VIRTIO_IOMMU_S_RANGE." virt_end + 1 wraps to 0 for a
    // mapping that ends at 2^64 - 1, which is aligned.
    const uint64_t granule = config_->granule();
    if (!is_aligned(m.iova.first.value(), granule) || !is_aligned(m.phys_start, granule) ||
        !is_aligned(m.iova.last.value() + 1, granule))
        return unexpected(Error::kMisaligned);
    // phys_end = phys_start + virt_end - virt_start must exist.
    if (!checked_add(m.phys_start, m.iova.last.value() - m.iova.first.value()))
        return unexpected(Error::kPhysWraps);
    // "If a mapping already exists in the requested range, the device SHOULD reject the request and set
    // status to VIRTIO_IOMMU_S_INVAL."
    if (d->mappings.overlaps(m.iova))
        return unexpected(Error::kOverlap);
    // §5.13.6.8.1.2: "The device SHOULD reject a MAP request that overlaps a RESV_MEM region" (no status
    // given: INVAL, like an overlap with a mapping).
    if (overlaps_reserved(*d, m.iova, attached_regions))
        return unexpected(Error::kOverlapsReserved);
    if (d->mappings.size() >= config_->limits.max_mappings_per_domain)
        return unexpected(Error::kTooManyMappings);
    if (mappings_ >= config_->limits.max_total_mappings)
        return unexpected(Error::kMappingBudgetSpent);
    d->mappings.insert(m);
    ++mappings_;
    notify_each(*d, m, true);
    return {};
}

Expected<void, Error> Domains::apply(const UnmapRequest& r)
{
    const auto [domain, range] = r;
    // §5.13.6.6.2: missing domain NOENT, bypass domain INVAL, a split RANGE with nothing removed,
    // anything else OK (including a range that holds nothing).
    VirtioIommuDomain* d = find_mut(domain);
    if (!d)
        return unexpected(Error::kNoSuchDomain);
    if (d->bypass)
        return unexpected(Error::kBypassDomain);
    const auto result = d->mappings.remove_range(range, [&](const Mapping& m) {
        --mappings_;
        notify_each(*d, m, false);
    });
    if (result == MappingStore::RemoveResult::kWouldSplit)
        return unexpected(Error::kWouldSplit);
    return {};
}

void Domains::clear()
{
    // §5.13.5: "When the device is reset, endpoints are not attached to any domain."
    while (!attached_.empty()) {
        const auto [endpoint, domain] = *attached_.begin();
        remove_endpoint(*domain, endpoint);
    }
    domains_.clear();
}

void Domains::replace_all(Domains&& restored)
{
    clear();
    domains_ = std::move(restored.domains_);
    attached_ = std::move(restored.attached_);
    mappings_ = std::exchange(restored.mappings_, 0);
    restored.domains_.clear();
    restored.attached_.clear();
    for (const VirtioIommuDomain* d : all())
        for (EndpointId ep : d->endpoints)
            if (const auto it = listeners_.find(ep); it != listeners_.end())
                d->mappings.for_each([&](const Mapping& m) { it->second->on_map(ep, m); });
}

void Domains::set_listener(EndpointId endpoint, MappingListener* listener)
{
    if (!listener) {
        listeners_.erase(endpoint);
        return;
    }
    listeners_[endpoint] = listener;
    if (const VirtioIommuDomain* d = domain_of(endpoint))
        d->mappings.for_each([&](const Mapping& m) { listener->on_map(endpoint, m); });
}

} // namespace viommu::hw::virtio_iommu
