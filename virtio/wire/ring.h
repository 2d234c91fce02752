// Split virtqueue layout (virtio v1.2 §2.7). Checked against <linux/virtio_ring.h> in layout_check.cc.
#pragma once

#include <cstdint>

#include "virtio/wire/le.h"

namespace viommu::virtio::wire {

// §2.7.5 The Virtqueue Descriptor Table.
struct Desc {
    le64 addr;
    le32 len;
    le16 flags;
    le16 next;
};
static_assert(sizeof(Desc) == 16);

inline constexpr uint16_t kDescFNext = 1;
inline constexpr uint16_t kDescFWrite = 2;
inline constexpr uint16_t kDescFIndirect = 4;

// §2.7.6 The Virtqueue Available Ring: flags, idx, ring[size], then used_event (with EVENT_IDX).
struct AvailHeader {
    le16 flags;
    le16 idx;
};
inline constexpr uint16_t kAvailFNoInterrupt = 1;

// §2.7.8 The Virtqueue Used Ring: flags, idx, ring[size] of UsedElem, then avail_event (with EVENT_IDX).
struct UsedHeader {
    le16 flags;
    le16 idx;
};
struct UsedElem {
    le32 id;
    le32 len;
};
static_assert(sizeof(UsedElem) == 8);
inline constexpr uint16_t kUsedFNoNotify = 1;

// §2.7 "Queue Size ... the maximum Queue Size value is 32768".
inline constexpr uint32_t kMaxQueueSize = 32768;

// §2.7: alignment of each part of a split virtqueue.
inline constexpr uint64_t kDescAlign = 16;
inline constexpr uint64_t kAvailAlign = 2;
inline constexpr uint64_t kUsedAlign = 4;

// Byte sizes of the three areas for a queue of `size` entries, including the event-index words, which
// are always reserved (§2.7.6, §2.7.8). Cannot overflow: size <= 32768.
constexpr uint64_t desc_table_bytes(uint32_t size) { return 16ull * size; }
constexpr uint64_t avail_ring_bytes(uint32_t size) { return 4 + 2ull * size + 2; }
constexpr uint64_t used_ring_bytes(uint32_t size) { return 4 + 8ull * size + 2; }

constexpr uint64_t avail_ring_entry_offset(uint32_t i) { return 4 + 2ull * i; }
constexpr uint64_t used_event_offset(uint32_t size) { return 4 + 2ull * size; }
constexpr uint64_t used_ring_entry_offset(uint32_t i) { return 4 + 8ull * i; }
constexpr uint64_t avail_event_offset(uint32_t size) { return 4 + 8ull * size; }

// §2.7.10.? vring_need_event: whether moving an index from old_idx to new_idx crosses event_idx.
constexpr bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return static_cast<uint16_t>(new_idx - event_idx - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

} // namespace viommu::virtio::wire
