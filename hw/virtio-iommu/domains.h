// The IOMMU's state: domains, the endpoints attached to them, and each domain's mappings, with the
// rules of ATTACH, DETACH, MAP and UNMAP (virtio v1.2 §5.13.6.3-§5.13.6.6). Requests arrive here
// typed, their own rules checked (request_types.h); every refusal is an Error, which device.cc turns into a status in one place.
//
// A rejected request changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "hw/virtio-iommu/config.h"
#include "hw/virtio-iommu/errors.h"
#include "hw/virtio-iommu/listener.h"
#include "hw/virtio-iommu/mapping_store.h"
#include "hw/virtio-iommu/request_types.h"

namespace viommu::hw::virtio_iommu {

// One domain of the device (QEMU's VirtIOIOMMUDomain).
struct VirtioIommuDomain {
    DomainId id;
    bool bypass = false;
    MappingStore mappings;
    std::vector<EndpointId> endpoints; // attached, in attach order
    // The per-endpoint reserved regions (indices into IommuConfig::reserved) that apply to an attached
    // endpoint, sorted, each with how many attached endpoints it applies to: MAP checks each once,
    // whatever the number of endpoints.
    std::vector<std::pair<uint32_t, uint32_t>> endpoint_reserved;
    // (A behaviour that lets MAP take virt_end < virt_start.) The inverted intervals QEMU keeps in its
    // tree, first > last: no translation reaches them, but a MAP or UNMAP spanning one meets it.
    std::vector<IovaRange> inverted;
};

class Domains {
public:
    explicit Domains(const IommuConfig& config);
    // The configuration's reserved regions from index `first` on were added (a device plugged with its
    // host's reserved regions, for an endpoint attached to no domain): they count from now on.
    void index_reserved_from(std::size_t first);
    // Regions were removed from the configuration (a device unplugged with its host's): the indices,
    // and each domain's count of its endpoints' regions, are made again.
    void reindex_reserved();

    // The state's side of each request: the guest's, decoded, and a snapshot's, replayed.
    [[nodiscard]] Expected<void, Error> apply(const AttachRequest& r);
    [[nodiscard]] Expected<void, Error> apply(const DetachRequest& r);
    [[nodiscard]] Expected<void, Error> apply(const MapRequest& r);
    [[nodiscard]] Expected<void, Error> apply(const UnmapRequest& r);
    // A snapshot's MAP (snapshot.cc): MAP's rules, but of the reserved regions only those of every
    // endpoint. A MAP is checked against the regions of the endpoints attached when it is made, not of
    // those that join later (§5.13.6.3 has no such rule), and the endpoint that made it may have left
    // since: a domain can hold a mapping over a region of each endpoint it has now. The snapshot checks
    // instead that some endpoint of the device could have made it.
    [[nodiscard]] Expected<void, Error> apply_restored(const MapRequest& r);

    // Detaches every endpoint (their listeners see the UNMAPs) and forgets every domain: a device reset.
    void clear();

    // The domain an endpoint is attached to, or nullptr. On the translation hot path.
    const VirtioIommuDomain* domain_of(EndpointId endpoint) const
    {
        const auto it = attached_.find(endpoint);
        return it == attached_.end() ? nullptr : it->second;
    }
    const VirtioIommuDomain* find(DomainId domain) const;
    // Whether the device holds state for the endpoint (DeviceBehaviour::endpoint_state; always false when
    // it keeps none). On the translation hot path.
    bool has_state(EndpointId endpoint) const
    {
        return endpoint.value() < endpoint_state_.size() && endpoint_state_[endpoint.value()];
    }
    std::size_t domain_count() const { return domains_.size(); }
    std::size_t attached_count() const { return attached_.size(); }
    // Mappings of every domain together (what limits.max_total_mappings bounds).
    uint64_t mapping_count() const { return mappings_; }
    // Every domain, in ID order (for snapshots and reports).
    std::vector<const VirtioIommuDomain*> all() const;
    // Reserved regions MAP has compared a mapping with so far: what a test counts to see that MAP's
    // cost does not grow with the endpoints of a domain.
    uint64_t reserved_region_checks() const { return reserved_region_checks_; }

    // Takes every domain of `restored` in place of this state's (a snapshot restore, replayed into a
    // scratch state of the same configuration); listeners see the old mappings go and the new ones come.
    void replace_all(Domains&& restored);

    // Registers the host listener of an endpoint (one per endpoint; nullptr removes it). A new listener
    // is told about every mapping the endpoint can already reach.
    void set_listener(EndpointId endpoint, MappingListener* listener);

private:
    VirtioIommuDomain* find_mut(DomainId domain);
    // ATTACH in QEMU's order (DeviceBehaviour::attach_detaches_first): the endpoint leaves its domain
    // before the new one is looked up.
    Expected<void, Error> attach_detaching_first(const AttachRequest& r);
    // Attaches an endpoint in no domain to `target`, or to a new domain `domain` when target is null.
    void join(VirtioIommuDomain* target, DomainId domain, bool bypass, EndpointId endpoint);
    // UNMAP in QEMU's way (DeviceBehaviour::unmap_checks_split_first false) once a split was found: the
    // whole mappings met before the one that would split are removed.
    void remove_before_split(VirtioIommuDomain& d, IovaRange range);
    // Whether QEMU's tree lookup of `range` would meet one of the domain's inverted intervals.
    bool meets_inverted(const VirtioIommuDomain& d, IovaRange range) const;
    // Takes the endpoint out of its domain, telling its listener, and drops the domain if it is left
    // with no endpoint (the domain's lifetime: §5.13.6.4).
    void remove_endpoint(VirtioIommuDomain& d, EndpointId endpoint);
    void notify_each(const VirtioIommuDomain& d, const Mapping& m, bool mapped) const;
    // A mapping UNMAP removed: counted, its listeners told, traced.
    void unmapped(const VirtioIommuDomain& d, const Mapping& m);
    // MAP's rules; `attached_regions`: checked against the per-endpoint regions of the domain's endpoints
    // too, not only the global ones.
    Expected<void, Error> map(const MapRequest& r, bool attached_regions);
    bool overlaps_reserved(const VirtioIommuDomain& d, IovaRange range, bool attached_regions) const;
    bool overlaps_region(uint32_t index, IovaRange range) const;
    // Counts the endpoint's per-endpoint reserved regions into its domain's endpoint_reserved as it is
    // attached, or out of it as it is detached.
    void count_endpoint_reserved(VirtioIommuDomain& d, EndpointId endpoint, bool attached);

    const IommuConfig* config_;
    // Indices into config_->reserved: regions for every endpoint, and regions for some.
    std::vector<uint32_t> global_reserved_;
    std::vector<uint32_t> per_endpoint_reserved_;
    std::unordered_map<DomainId, std::unique_ptr<VirtioIommuDomain>> domains_;
    std::unordered_map<EndpointId, VirtioIommuDomain*> attached_;
    // Nodes of attached_ given back by DETACH, reused by the next ATTACH: attaching and detaching an
    // endpoint does not allocate once warm.
    std::vector<std::unordered_map<EndpointId, VirtioIommuDomain*>::node_type> spare_nodes_;
    std::unordered_map<EndpointId, MappingListener*> listeners_;
    // One flag per possible endpoint when the behaviour keeps endpoint state (a QEMU profile's endpoints
    // are 16-bit PCI requester IDs: IommuConfig::problems()); empty otherwise. Sized once, never grows.
    std::vector<bool> endpoint_state_;
    mutable uint64_t reserved_region_checks_ = 0;
    uint64_t mappings_ = 0;
};

} // namespace viommu::hw::virtio_iommu
