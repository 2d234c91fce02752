#include "hw/virtio-iommu/domains.h"

#include <algorithm>

#include "base/checked.h"
#include "hw/virtio-iommu/trace_events.h"

namespace viommu::hw::virtio_iommu {

Domains::Domains(const IommuConfig& config) : config_(&config)
{
    if (config.behaviour.endpoint_state != EndpointState::kNotKept)
        endpoint_state_.resize(std::size_t{1} << 16);
    index_reserved_from(0);
}

void Domains::index_reserved_from(std::size_t first)
{
    for (auto i = static_cast<uint32_t>(first); i < config_->reserved.size(); ++i)
        (config_->reserved[i].endpoints.empty() ? global_reserved_ : per_endpoint_reserved_).push_back(i);
}

void Domains::reindex_reserved()
{
    global_reserved_.clear();
    per_endpoint_reserved_.clear();
    index_reserved_from(0);
    for (auto& [id, d] : domains_) {
        d->endpoint_reserved.clear();
        for (const EndpointId endpoint : d->endpoints)
            count_endpoint_reserved(*d, endpoint, true);
    }
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
    out.reserve(domains_.size());
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
        trace_virtio_iommu_put_domain(static_cast<int32_t>(d.id.value()));
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
    // QEMU's virtio_iommu_get_endpoint() makes the endpoint's state here, whatever comes next.
    if (!endpoint_state_.empty() && !endpoint_state_[endpoint.value()]) {
        endpoint_state_[endpoint.value()] = true;
        trace_virtio_iommu_get_endpoint(static_cast<int32_t>(endpoint.value()));
    }
    if (config_->behaviour.attach_detaches_first)
        return attach_detaching_first(r);
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
    join(target, domain, bypass, endpoint);
    return {};
}

Expected<void, Error> Domains::attach_detaching_first(const AttachRequest& r)
{
    const auto [domain, endpoint, bypass] = r;
    // QEMU's virtio_iommu_attach(): "the device is already attached to a domain, detach it first", the
    // old domain going if that leaves it empty (even when it is the domain asked for), and then
    // virtio_iommu_get_domain() refuses a bypass flag that differs from an existing domain's.
    if (const auto current = attached_.find(endpoint); current != attached_.end())
        remove_endpoint(*current->second, endpoint);
    VirtioIommuDomain* target = find_mut(domain);
    if (target && target->bypass != bypass)
        return unexpected(Error::kBypassMismatch);
    if (!target && domains_.size() >= config_->limits.max_domains)
        return unexpected(Error::kTooManyDomains);
    if (attached_.size() >= config_->limits.max_attached_endpoints)
        return unexpected(Error::kTooManyEndpoints);
    join(target, domain, bypass, endpoint);
    return {};
}

void Domains::join(VirtioIommuDomain* target, DomainId domain, bool bypass, EndpointId endpoint)
{
    if (!target) {
        auto d = std::make_unique<VirtioIommuDomain>();
        d->id = domain;
        d->bypass = bypass;
        target = d.get();
        domains_.emplace(domain, std::move(d));
        trace_virtio_iommu_get_domain(static_cast<int32_t>(domain.value()));
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
}

Expected<void, Error> Domains::apply(const DetachRequest& r)
{
    const auto [domain, endpoint] = r;
    // §5.13.6.4.2: a missing endpoint MUST be NOENT; a missing domain, or an endpoint that is not attached
    // to it, MAY be INVAL (QEMU answers INVAL for both).
    if (!config_->endpoint_exists(endpoint))
        return unexpected(Error::kNoSuchEndpoint);
    // QEMU's virtio_iommu_detach() looks the endpoint up among those it holds state for: NOENT if absent.
    if (config_->behaviour.endpoint_state != EndpointState::kNotKept && !has_state(endpoint))
        return unexpected(Error::kNoSuchEndpoint);
    const auto current = attached_.find(endpoint);
    if (current == attached_.end() || current->second->id != domain)
        return unexpected(Error::kNotAttached);
    remove_endpoint(*current->second, endpoint);
    if (config_->behaviour.endpoint_state == EndpointState::kUntilDetach) {
        endpoint_state_[endpoint.value()] = false;
        trace_virtio_iommu_put_endpoint(static_cast<int32_t>(endpoint.value()));
    }
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
    const DeviceBehaviour& b = config_->behaviour;
    if (m.iova.last < m.iova.first) {
        // Only when the behaviour lets an inverted range through (check_request()). QEMU's
        // virtio_iommu_map() looks the interval up first: its comparison finds a mapping that holds both
        // ends, and the MAP is INVAL. Otherwise QEMU keeps the inverted interval, which no lookup of a
        // proper range reaches except one spanning it; we keep nothing (docs/conformance.md).
        const auto holder = d->mappings.find(m.iova.last);
        if (holder && holder->iova.last >= m.iova.first)
            return unexpected(Error::kOverlap);
        // (Two inverted intervals never meet: that would need virt_start <= virt_end for one of them.)
        d->inverted.push_back(m.iova);
        return {};
    }
    // §5.13.6: with INPUT_RANGE, "Any mapping request to virtual addresses outside of this range fails."
    // (QEMU 7.2 does not check, but its input range is the whole 64-bit space: IommuConfig::problems().)
    if (m.iova.first.value() < config_->input_start || m.iova.last.value() > config_->input_end)
        return unexpected(Error::kOutsideInputRange);
    // "If virt_start, phys_start or (virt_end + 1) is not aligned on the page granularity, the device
    // SHOULD reject the request and set status to VIRTIO_IOMMU_S_RANGE." virt_end + 1 wraps to 0 for a
    // mapping that ends at 2^64 - 1, which is aligned.
    const uint64_t granule = config_->granule();
    if (b.map_checks_alignment &&
        (!is_aligned(m.iova.first.value(), granule) || !is_aligned(m.phys_start, granule) ||
         !is_aligned(m.iova.last.value() + 1, granule)))
        return unexpected(Error::kMisaligned);
    // phys_end = phys_start + virt_end - virt_start must exist.
    if (b.map_checks_phys_wrap && !checked_add(m.phys_start, m.iova.last.value() - m.iova.first.value()))
        return unexpected(Error::kPhysWraps);
    // "If a mapping already exists in the requested range, the device SHOULD reject the request and set
    // status to VIRTIO_IOMMU_S_INVAL."
    if (d->mappings.overlaps(m.iova) || meets_inverted(*d, m.iova))
        return unexpected(Error::kOverlap);
    // §5.13.6.8.1.2: "The device SHOULD reject a MAP request that overlaps a RESV_MEM region" (no status
    // given: INVAL, like an overlap with a mapping).
    if (b.map_checks_reserved_regions && overlaps_reserved(*d, m.iova, attached_regions))
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
    // QEMU's virtio_iommu_unmap() removes what its lookup finds and looks again: an inverted interval
    // it kept is found, covered, and removed by a g_tree_remove() that cannot find it (its comparison
    // never says equal for it), so QEMU 7.2 loops forever and never answers. We give up instead.
    // (An inverted UNMAP never meets an inverted interval.)
    if (range.first <= range.last && meets_inverted(*d, range))
        return unexpected(Error::kUnmapNeverEnds);
    if (range.last < range.first) {
        // Only when the behaviour lets an inverted range through (check_request()). QEMU's
        // virtio_iommu_unmap() finds a mapping holding both ends, which the inverted range cannot cover:
        // RANGE; or none, and nothing to remove.
        const auto holder = d->mappings.find(range.last);
        if (holder && holder->iova.last >= range.first)
            return unexpected(Error::kWouldSplit);
        return {};
    }
    const auto result = d->mappings.remove_range(range, [&](const Mapping& m) { unmapped(*d, m); });
    if (result == MappingStore::RemoveResult::kWouldSplit) {
        if (!config_->behaviour.unmap_checks_split_first)
            remove_before_split(*d, range);
        return unexpected(Error::kWouldSplit);
    }
    return {};
}

bool Domains::meets_inverted(const VirtioIommuDomain& d, IovaRange range) const
{
    // QEMU's interval_cmp() says "equal" when neither range.last < k.first nor k.last < range.first.
    for (const IovaRange& k : d.inverted)
        if (range.last >= k.first && k.last >= range.first)
            return true;
    return false;
}

void Domains::remove_before_split(VirtioIommuDomain& d, IovaRange range)
{
    // QEMU's loop removes each whole mapping its GTree lookup meets and stops at the first it would
    // split. We meet them in address order: a mapping crossing virt_start stops it at once; otherwise
    // the one crossing virt_end is the last, and everything before it goes. (QEMU's order follows its
    // tree's shape; the status is RANGE either way.)
    const auto at_start = d.mappings.find(range.first);
    if (at_start && at_start->iova.first < range.first)
        return;
    const auto at_end = d.mappings.find(range.last); // crosses virt_end: the split remove_range() found
    if (!at_end || at_end->iova.first == range.first)
        return;
    const IovaRange before{range.first, Iova(at_end->iova.first.value() - 1)};
    (void)d.mappings.remove_range(before, [&](const Mapping& m) { unmapped(d, m); });
}

void Domains::unmapped(const VirtioIommuDomain& d, const Mapping& m)
{
    --mappings_;
    notify_each(d, m, false);
    trace_virtio_iommu_unmap_done(static_cast<int32_t>(d.id.value()), m.iova.first.value(), m.iova.last.value());
}

void Domains::clear()
{
    // §5.13.5: "When the device is reset, endpoints are not attached to any domain." In QEMU 7.2's
    // order (virtio_iommu_device_reset() destroys its trees of domains, then of endpoints, each in ID
    // order): each domain with its endpoints, then the endpoints' state.
    std::vector<DomainId> ids;
    for (const auto& [id, d] : domains_)
        ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (DomainId id : ids) {
        // Every domain has an endpoint (the last one to leave erases it), a restored one included.
        while (VirtioIommuDomain* d = find_mut(id))
            remove_endpoint(*d, d->endpoints.back());
    }
    for (std::size_t ep = 0; ep < endpoint_state_.size(); ++ep) {
        if (!endpoint_state_[ep])
            continue;
        endpoint_state_[ep] = false;
        trace_virtio_iommu_put_endpoint(static_cast<int32_t>(ep));
    }
}

void Domains::replace_all(Domains&& restored)
{
    clear();
    domains_ = std::move(restored.domains_);
    attached_ = std::move(restored.attached_);
    mappings_ = std::exchange(restored.mappings_, 0);
    // The restored state holds state for the endpoints it attached, as QEMU's post_load rebuilds its
    // endpoints from its domains' lists.
    endpoint_state_.swap(restored.endpoint_state_);
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
