#include "guest-model/virtio-iommu/fault_event.h"

#include <algorithm>
#include <cstddef>

#include "guest-model/virtio-iommu/wire_fields.h"

namespace viommu::guest::virtio_iommu {

std::optional<FaultEvent> parse_fault_event(std::span<const uint8_t> bytes)
{
    if (bytes.size() < FaultEvent::kSize)
        return std::nullopt;
    using wire_fields::load_le;
    const uint8_t* at = bytes.data();
    FaultEvent f;
    f.reason = static_cast<FaultReason>(at[offsetof(virtio_iommu_fault, reason)]);
    f.flags = load_le<uint32_t>(at + offsetof(virtio_iommu_fault, flags));
    f.endpoint = load_le<uint32_t>(at + offsetof(virtio_iommu_fault, endpoint));
    f.address = load_le<uint64_t>(at + offsetof(virtio_iommu_fault, address));
    std::copy_n(at + offsetof(virtio_iommu_fault, reserved), f.reserved.size(), f.reserved.begin());
    std::copy_n(at + offsetof(virtio_iommu_fault, reserved2), f.reserved2.size(), f.reserved2.begin());
    return f;
}

} // namespace viommu::guest::virtio_iommu
