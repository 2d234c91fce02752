// A fault report from the event queue (virtio v1.2 §5.13.6.9, struct virtio_iommu_fault), read by the
// driver: 24 little-endian bytes the device wrote into an event buffer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include <linux/virtio_iommu.h>

namespace viommu::guest::virtio_iommu {

enum class FaultReason : uint8_t {
    kUnknown = VIRTIO_IOMMU_FAULT_R_UNKNOWN, // "an internal error"
    kDomain = VIRTIO_IOMMU_FAULT_R_DOMAIN,   // the endpoint is in no domain and may not bypass
    kMapping = VIRTIO_IOMMU_FAULT_R_MAPPING, // no mapping, or one without the access's permission
};

struct FaultEvent {
    static constexpr uint32_t kSize = sizeof(virtio_iommu_fault);

    FaultReason reason = FaultReason::kUnknown; // may hold a value the spec does not define
    uint32_t flags = 0;                         // VIRTIO_IOMMU_FAULT_F_*
    uint32_t endpoint = 0;
    uint64_t address = 0; // meaningful only with VIRTIO_IOMMU_FAULT_F_ADDRESS
    std::array<uint8_t, 3> reserved{};  // after reason
    std::array<uint8_t, 4> reserved2{}; // after endpoint

    bool read() const { return flags & VIRTIO_IOMMU_FAULT_F_READ; }
    bool write() const { return flags & VIRTIO_IOMMU_FAULT_F_WRITE; }
    bool exec() const { return flags & VIRTIO_IOMMU_FAULT_F_EXEC; }
    bool has_address() const { return flags & VIRTIO_IOMMU_FAULT_F_ADDRESS; }
    // The three bytes after reason: Linux ignores a report where they are not zero
    // (VIOMMU_FAULT_RESV_MASK in viommu_event_handler()).
    bool head_reserved_zero() const { return reserved == std::array<uint8_t, 3>{}; }
    // Both reserved fields, which the device writes as zero (§5.13.6.9.2).
    bool reserved_zero() const { return head_reserved_zero() && reserved2 == std::array<uint8_t, 4>{}; }
};

// The report in an event buffer's first kSize bytes; nullopt if the buffer is shorter.
std::optional<FaultEvent> parse_fault_event(std::span<const uint8_t> bytes);

} // namespace viommu::guest::virtio_iommu
