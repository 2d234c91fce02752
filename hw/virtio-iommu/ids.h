// The device's identifiers (virtio v1.2 §5.13.6): a domain ID and an endpoint ID are both 32-bit
// numbers in a request, and nothing else should make them interchangeable. Request decoding makes them
// at the boundary; the device's API speaks only these types.
#pragma once

#include <cstdint>
#include <type_traits>

#include "base/strong_id.h"

namespace viommu::hw::virtio_iommu {

using DomainId = StrongId<struct DomainIdTag, uint32_t>;
// An endpoint: for PCI, the requester ID (bus << 8 | devfn), as QEMU's virtio-iommu numbers them.
using EndpointId = StrongId<struct EndpointIdTag, uint32_t>;

// An inclusive range of IDs.
template <class Id>
struct IdRange {
    Id first{};
    Id last{};
    constexpr bool contains(Id id) const { return first <= id && id <= last; }
};
using EndpointRange = IdRange<EndpointId>;

// An inclusive range of I/O virtual addresses as a request names it: [first, last]. A request's own
// rules (request_types.cc) refuse last < first before anything else sees the range.
struct IovaRange {
    uint64_t first = 0;
    uint64_t last = 0;
};

// The translation hot path passes these by value: they must be the plain integer.
static_assert(sizeof(EndpointId) == sizeof(uint32_t) && std::is_trivially_copyable_v<EndpointId>);
static_assert(sizeof(DomainId) == sizeof(uint32_t) && std::is_trivially_copyable_v<DomainId>);

} // namespace viommu::hw::virtio_iommu
