// The device's requests once decoded (virtio v1.2 §5.13.6), the rules a request carries whatever
// brought it (the guest's bytes or a snapshot's records), and how a request is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "base/expected.h"
#include "hw/virtio-iommu/behaviour.h"
#include "hw/virtio-iommu/errors.h"
#include "hw/virtio-iommu/ids.h"
#include "hw/virtio-iommu/mapping_store.h"
#include "virtio/feature_bits.h"

namespace viommu::hw::virtio_iommu {

struct AttachRequest {
    DomainId domain;
    EndpointId endpoint;
    bool bypass; // VIRTIO_IOMMU_ATTACH_F_BYPASS
};
struct DetachRequest {
    DomainId domain;
    EndpointId endpoint;
};
struct MapRequest {
    DomainId domain;
    Mapping mapping; // virt_start <= virt_end
};
struct UnmapRequest {
    DomainId domain;
    IovaRange range;
};
struct ProbeRequest {
    EndpointId endpoint;
};

using Request = std::variant<AttachRequest, DetachRequest, MapRequest, UnmapRequest, ProbeRequest>;

// What the driver negotiated that changes how a request reads.
struct RequestFeatures {
    bool map_unmap = false;     // VIRTIO_IOMMU_F_MAP_UNMAP: MAP and UNMAP exist
    bool probe = false;         // VIRTIO_IOMMU_F_PROBE: PROBE exists
    bool bypass_config = false; // VIRTIO_IOMMU_F_BYPASS_CONFIG: ATTACH_F_BYPASS is a flag
    bool mmio = false;          // VIRTIO_IOMMU_F_MMIO: MAP_F_MMIO is a flag

    static RequestFeatures negotiated(virtio::FeatureBits driver_features);
    // What requests see: the negotiated features, or all of them when the behaviour looks at none
    // (DeviceBehaviour::requests_ignore_negotiation).
    static RequestFeatures in_effect(virtio::FeatureBits driver_features, const DeviceBehaviour& behaviour);
};

// Why a request is not answered OK: an error, whose status goes in the tail, or no answer at all: the
// device returns the buffer unwritten with used length 0 (§5.13.6.2, §5.13.6.7.2).
class Refusal {
public:
    constexpr Refusal() = default; // the buffer returned unwritten (what Expected<void, Refusal> needs)
    constexpr Refusal(Error error) : error_(error) {} // every Error is a refusal with a status
    static constexpr Refusal unwritten() { return Refusal(); }

    constexpr bool is_unwritten() const { return !error_; }
    constexpr Error error() const { return *error_; } // when !is_unwritten()

private:
    std::optional<Error> error_;
};

constexpr std::string_view describe(const Refusal& r)
{
    return r.is_unwritten() ? "request type not recognised or not negotiated" : describe(r.error());
}

// Whether the request type exists with these features. §5.13.6.5/6: MAP and UNMAP are "only available
// when VIRTIO_IOMMU_F_MAP_UNMAP has been negotiated"; §5.13.6.7.2: without PROBE the device "SHOULD NOT
// write the buffer and SHOULD set the used length to zero" (the spec says "offer"; a request for a
// feature the driver declined is treated alike).
bool type_negotiated(uint8_t type, const RequestFeatures& features);

// The rules of a request that depend only on the request, the negotiated features and the device's
// behaviour, not on its state: flags, ranges, and whether its type was negotiated.
[[nodiscard]] Expected<void, Refusal> check_request(const Request& request, const RequestFeatures& features,
                                                    const DeviceBehaviour& behaviour);

} // namespace viommu::hw::virtio_iommu
