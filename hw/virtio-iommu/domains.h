// The IOMMU's state: domains, the endpoints attached to them, and each domain's mappings, with the
// rules of ATTACH, DETACH, MAP and UNMAP (virtio v1.2 §5.13.6.3-§5.13.6.6). Requests arrive here
// decoded; every refusal is an Error, which device.cc turns into a status in one place.
//
// A rejected request changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/expected.h"
#include "hw/virtio-iommu/config.h"
#include "hw/virtio-iommu/errors.h"
#include "hw/virtio-iommu/listener.h"
#include "hw/virtio-iommu/mapping_store.h"

namespace viommu::iommu {

// One domain of the device (QEMU's VirtIOIOMMUDomain).
struct VirtioIommuDomain {
    uint32_t id = 0;
    bool bypass = false;
    MappingStore mappings;
    std::vector<uint32_t> endpoints; // attached, in attach order
};

class Domains {
public:
    explicit Domains(const IommuConfig& config) : config_(&config) {}

    [[nodiscard]] Expected<void, Error> attach(uint32_t domain, uint32_t endpoint, bool bypass);
    [[nodiscard]] Expected<void, Error> detach(uint32_t domain, uint32_t endpoint);
    [[nodiscard]] Expected<void, Error> map(uint32_t domain, const Mapping& m);
    [[nodiscard]] Expected<void, Error> unmap(uint32_t domain, uint64_t virt_start, uint64_t virt_end);

    // Detaches every endpoint (their listeners see the UNMAPs) and forgets every domain: a device reset.
    void clear();

    // The domain an endpoint is attached to, or nullptr. On the translation hot path.
    const VirtioIommuDomain* domain_of(uint32_t endpoint) const
    {
        const auto it = attached_.find(endpoint);
        return it == attached_.end() ? nullptr : it->second;
    }
    const VirtioIommuDomain* find(uint32_t domain) const;
    std::size_t domain_count() const { return domains_.size(); }
    std::size_t attached_count() const { return attached_.size(); }
    // Every domain, in ID order (for snapshots and reports).
    std::vector<const VirtioIommuDomain*> all() const;

    // Replaces every domain at once (a snapshot restore). The caller has checked the domains against the
    // configuration; listeners see the old mappings go and the new ones come.
    void replace_all(std::vector<std::unique_ptr<VirtioIommuDomain>> domains);

    // Registers the host listener of an endpoint (one per endpoint; nullptr removes it). A new listener
    // is told about every mapping the endpoint can already reach.
    void set_listener(uint32_t endpoint, MappingListener* listener);

private:
    VirtioIommuDomain* find_mut(uint32_t domain);
    // Takes the endpoint out of its domain, telling its listener, and drops the domain if it is left
    // with no endpoint (the domain's lifetime: §5.13.6.4).
    void remove_endpoint(VirtioIommuDomain& d, uint32_t endpoint);
    void notify_each(const VirtioIommuDomain& d, const Mapping& m, bool mapped) const;
    bool overlaps_reserved(const VirtioIommuDomain& d, uint64_t start, uint64_t end) const;

    const IommuConfig* config_;
    std::unordered_map<uint32_t, std::unique_ptr<VirtioIommuDomain>> domains_;
    std::unordered_map<uint32_t, VirtioIommuDomain*> attached_;
    // Nodes of attached_ given back by DETACH, reused by the next ATTACH: attaching and detaching an
    // endpoint does not allocate once warm.
    std::vector<std::unordered_map<uint32_t, VirtioIommuDomain*>::node_type> spare_nodes_;
    std::unordered_map<uint32_t, MappingListener*> listeners_;
};

} // namespace viommu::iommu
