// Packed virtqueue layout (virtio v1.2 §2.8). Checked against <linux/virtio_ring.h> in layout_check.cc.
#pragma once

#include <cstdint>

#include "virtio/wire/le.h"
#include "virtio/wire/ring.h"

namespace viommu::virtio::wire {

// §2.8.13 The Virtqueue Descriptor Format (struct pvirtq_desc).
struct PackedDesc {
    le64 addr;
    le32 len;
    le16 id;
    le16 flags;
};
static_assert(sizeof(PackedDesc) == 16);

// §2.8.1: a descriptor is available when AVAIL matches the driver's wrap counter and USED does not; used
// when both match the device's. NEXT, WRITE and INDIRECT keep their split-ring values (§2.8.4, 2.8.6, 2.8.7).
inline constexpr uint16_t kPackedDescFAvail = uint16_t{1} << 7;
inline constexpr uint16_t kPackedDescFUsed = uint16_t{1} << 15;

// §2.8.14 Event Suppression Structure Format (struct pvirtq_event_suppress): the driver area and the device
// area each hold one.
struct EventSuppress {
    le16 off_wrap; // desc_event_off:15, desc_event_wrap:1
    le16 flags;    // desc_event_flags:2, reserved:14
};
static_assert(sizeof(EventSuppress) == 4);

// §2.8.10 Driver and Device Event Suppression: Descriptor Ring Change Event Flags.
inline constexpr uint16_t kRingEventFlagsEnable = 0;
inline constexpr uint16_t kRingEventFlagsDisable = 1;
inline constexpr uint16_t kRingEventFlagsDesc = 2; // only with VIRTIO_F_EVENT_IDX
inline constexpr uint16_t kRingEventFlagsMask = 3;
inline constexpr unsigned kEventWrapShift = 15;

// §2.8.10.1 Structure Size and Alignment.
inline constexpr uint64_t kPackedDescAlign = 16;
inline constexpr uint64_t kEventSuppressAlign = 4;
constexpr uint64_t packed_desc_ring_bytes(uint32_t size) { return 16ull * size; }

// "Packed virtqueues support up to 2^15 entries each" (§2.8); unlike the split ring's, the size "does not
// have to be a power of 2 unless enforced by the transport" (§2.8.10.1).
inline constexpr uint32_t kMaxPackedQueueSize = 32768;

} // namespace viommu::virtio::wire
