// The device's identifiers (virtio v1.2 §5.13.6): a domain ID and an endpoint ID are both 32-bit
// numbers in a request, and nothing else should make them interchangeable. Request decoding makes them
// at the boundary; the device's API speaks only these types.
#pragma once

#include <cstdint>
#include <type_traits>

#include "base/addr.h"
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

// An inclusive range of I/O virtual addresses (base/addr.h's Iova) as a request names it: [first, last]. A request's own
// rules (request_types.cc) refuse last < first before anything else sees the range.
struct IovaRange {
    Iova first{};
    Iova last{};
    constexpr bool contains(Iova iova) const { return first <= iova && iova <= last; }
    constexpr bool intersects(IovaRange other) const { return first <= other.last && other.first <= last; }
    bool operator==(const IovaRange&) const = default;
};

// The translation hot path passes these by value: they must be the plain integer.
static_assert(sizeof(EndpointId) == sizeof(uint32_t) && std::is_trivially_copyable_v<EndpointId>);
static_assert(sizeof(DomainId) == sizeof(uint32_t) && std::is_trivially_copyable_v<DomainId>);
static_assert(sizeof(Iova) == sizeof(uint64_t) && std::is_trivially_copyable_v<Iova>);

} // namespace viommu::hw::virtio_iommu
