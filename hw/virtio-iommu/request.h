// Decoding a request: the only code that reads request bytes. What leaves here is a typed request or
// the reason it is refused; handlers never see bytes (virtio v1.2 §5.13.6).
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "base/expected.h"
#include "hw/virtio-iommu/errors.h"
#include "hw/virtio-iommu/mapping_store.h"
#include "virtio/chain_io.h"

namespace viommu::iommu {

struct AttachRequest {
    uint32_t domain;
    uint32_t endpoint;
    bool bypass; // VIRTIO_IOMMU_ATTACH_F_BYPASS
};
struct DetachRequest {
    uint32_t domain;
    uint32_t endpoint;
};
struct MapRequest {
    uint32_t domain;
    Mapping mapping; // virt_start <= virt_end
};
struct UnmapRequest {
    uint32_t domain;
    uint64_t virt_start;
    uint64_t virt_end; // >= virt_start
};
struct ProbeRequest {
    uint32_t endpoint;
};

using Request = std::variant<AttachRequest, DetachRequest, MapRequest, UnmapRequest, ProbeRequest>;

// What the driver negotiated that changes how a request reads.
struct RequestFeatures {
    bool map_unmap = false;     // VIRTIO_IOMMU_F_MAP_UNMAP: MAP and UNMAP exist
    bool probe = false;         // VIRTIO_IOMMU_F_PROBE: PROBE exists
    bool bypass_config = false; // VIRTIO_IOMMU_F_BYPASS_CONFIG: ATTACH_F_BYPASS is a flag
    bool mmio = false;          // VIRTIO_IOMMU_F_MMIO: MAP_F_MMIO is a flag
};

// Reads the request after its head (already read: `type`). nullopt when the device must return the
// buffer unwritten with used length 0: a type it does not recognise, or one whose feature was not
// negotiated (§5.13.6.2, §5.13.6.7.2).
[[nodiscard]] std::optional<Expected<Request, Error>> decode(uint8_t type, virtio::ChainReader& in,
                                                             const RequestFeatures& features);

} // namespace viommu::iommu
