// What a driver programs for a queue (its three areas and the ring features negotiated), and the indices
// the device keeps for it: both ring formats share them.
#pragma once

#include <cstdint>

#include "base/addr.h"

namespace viommu::virtio {

struct QueueLayout {
    GuestAddr desc;        // descriptor table (split) or descriptor ring (packed)
    GuestAddr avail;       // "driver area": the available ring, or the driver event suppression area
    GuestAddr used;        // "device area": the used ring, or the device event suppression area
    bool event_idx = false;  // VIRTIO_F_EVENT_IDX negotiated
    bool indirect = false;   // VIRTIO_F_INDIRECT_DESC negotiated
};

// The indices a device keeps for a queue: what a snapshot saves and restore() puts back. A split ring's
// are free-running 16-bit indices. A packed ring's next_avail and used_idx are ring positions with the
// ring wrap counter in bit 15, as the event suppression areas encode an offset and wrap (§2.8.14), and
// signalled_used is a position: positions are below 2^15, so the same fields carry both formats.
struct QueueIndices {
    uint16_t next_avail = 0;
    uint16_t used_idx = 0;
    uint16_t signalled_used = 0;
    bool signalled_used_valid = false;
};

} // namespace viommu::virtio
