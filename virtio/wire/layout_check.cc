// Proves our wire declarations match the kernel's uapi headers, field by field. Nothing here runs: a
// mismatch fails the build.
#include <cstddef>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
// vring_init() in the legacy part of the header is C that C++ rejects; the layouts are all we need.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

#include "virtio/feature_bits.h"
#include "virtio/wire/mmio_regs.h"
#include "virtio/wire/ring.h"

namespace viommu::virtio::wire {

#define SAME_FIELD(ours, theirs, field)                                                           \
    static_assert(offsetof(ours, field) == offsetof(theirs, field), #ours "." #field " offset"); \
    static_assert(sizeof(ours::field) == sizeof(theirs::field), #ours "." #field " size")

static_assert(sizeof(Desc) == sizeof(vring_desc));
SAME_FIELD(Desc, vring_desc, addr);
SAME_FIELD(Desc, vring_desc, len);
SAME_FIELD(Desc, vring_desc, flags);
SAME_FIELD(Desc, vring_desc, next);

static_assert(sizeof(UsedElem) == sizeof(vring_used_elem));
SAME_FIELD(UsedElem, vring_used_elem, id);
SAME_FIELD(UsedElem, vring_used_elem, len);

static_assert(offsetof(AvailHeader, flags) == offsetof(vring_avail, flags));
static_assert(offsetof(AvailHeader, idx) == offsetof(vring_avail, idx));
static_assert(offsetof(UsedHeader, idx) == offsetof(vring_used, idx));

static_assert(kDescFNext == VRING_DESC_F_NEXT);
static_assert(kDescFWrite == VRING_DESC_F_WRITE);
static_assert(kDescFIndirect == VRING_DESC_F_INDIRECT);
static_assert(kAvailFNoInterrupt == VRING_AVAIL_F_NO_INTERRUPT);
static_assert(kUsedFNoNotify == VRING_USED_F_NO_NOTIFY);
static_assert(kDescAlign == VRING_DESC_ALIGN_SIZE);
static_assert(kAvailAlign == VRING_AVAIL_ALIGN_SIZE);
static_assert(kUsedAlign == VRING_USED_ALIGN_SIZE);

// The kernel's vring_size() at the smallest alignment lays the three areas out back to back; ours must
// agree on each area's size (the kernel's used ring carries the avail_event word the same way).
static_assert(desc_table_bytes(256) + avail_ring_bytes(256) == 16 * 256 + 2 * (3 + 256));
static_assert(used_ring_bytes(256) == 2 * 3 + 8 * 256);

static_assert(need_event(5, 6, 5));
static_assert(!need_event(7, 6, 5));
static_assert(need_event(0xffff, 0, 0xfffe)); // across the 16-bit wrap

static_assert(kFIndirectDesc == VIRTIO_RING_F_INDIRECT_DESC);
static_assert(kFEventIdx == VIRTIO_RING_F_EVENT_IDX);
static_assert(kFVersion1 == VIRTIO_F_VERSION_1);
static_assert(kFAccessPlatform == VIRTIO_F_ACCESS_PLATFORM);
static_assert(kFRingPacked == VIRTIO_F_RING_PACKED);
static_assert(kFInOrder == VIRTIO_F_IN_ORDER);
static_assert(kFRingReset == VIRTIO_F_RING_RESET);

static_assert(status::kAcknowledge == VIRTIO_CONFIG_S_ACKNOWLEDGE);
static_assert(status::kDriver == VIRTIO_CONFIG_S_DRIVER);
static_assert(status::kDriverOk == VIRTIO_CONFIG_S_DRIVER_OK);
static_assert(status::kFeaturesOk == VIRTIO_CONFIG_S_FEATURES_OK);
static_assert(status::kNeedsReset == VIRTIO_CONFIG_S_NEEDS_RESET);
static_assert(status::kFailed == VIRTIO_CONFIG_S_FAILED);

} // namespace viommu::virtio::wire

namespace viommu::virtio::mmio {
static_assert(kMagicValue == VIRTIO_MMIO_MAGIC_VALUE);
static_assert(kVersion == VIRTIO_MMIO_VERSION);
static_assert(kDeviceId == VIRTIO_MMIO_DEVICE_ID);
static_assert(kVendorId == VIRTIO_MMIO_VENDOR_ID);
static_assert(kDeviceFeatures == VIRTIO_MMIO_DEVICE_FEATURES);
static_assert(kDeviceFeaturesSel == VIRTIO_MMIO_DEVICE_FEATURES_SEL);
static_assert(kDriverFeatures == VIRTIO_MMIO_DRIVER_FEATURES);
static_assert(kDriverFeaturesSel == VIRTIO_MMIO_DRIVER_FEATURES_SEL);
static_assert(kQueueSel == VIRTIO_MMIO_QUEUE_SEL);
static_assert(kQueueNumMax == VIRTIO_MMIO_QUEUE_NUM_MAX);
static_assert(kQueueNum == VIRTIO_MMIO_QUEUE_NUM);
static_assert(kQueueReady == VIRTIO_MMIO_QUEUE_READY);
static_assert(kQueueNotify == VIRTIO_MMIO_QUEUE_NOTIFY);
static_assert(kInterruptStatus == VIRTIO_MMIO_INTERRUPT_STATUS);
static_assert(kInterruptAck == VIRTIO_MMIO_INTERRUPT_ACK);
static_assert(kStatus == VIRTIO_MMIO_STATUS);
static_assert(kQueueDescLow == VIRTIO_MMIO_QUEUE_DESC_LOW);
static_assert(kQueueDescHigh == VIRTIO_MMIO_QUEUE_DESC_HIGH);
static_assert(kQueueDriverLow == VIRTIO_MMIO_QUEUE_AVAIL_LOW);
static_assert(kQueueDriverHigh == VIRTIO_MMIO_QUEUE_AVAIL_HIGH);
static_assert(kQueueDeviceLow == VIRTIO_MMIO_QUEUE_USED_LOW);
static_assert(kQueueDeviceHigh == VIRTIO_MMIO_QUEUE_USED_HIGH);
static_assert(kShmSel == VIRTIO_MMIO_SHM_SEL);
static_assert(kShmLenLow == VIRTIO_MMIO_SHM_LEN_LOW);
static_assert(kShmLenHigh == VIRTIO_MMIO_SHM_LEN_HIGH);
static_assert(kShmBaseLow == VIRTIO_MMIO_SHM_BASE_LOW);
static_assert(kShmBaseHigh == VIRTIO_MMIO_SHM_BASE_HIGH);
#ifdef VIRTIO_MMIO_QUEUE_RESET // newer uapi headers only
static_assert(kQueueReset == VIRTIO_MMIO_QUEUE_RESET);
#endif
static_assert(kConfigGeneration == VIRTIO_MMIO_CONFIG_GENERATION);
static_assert(kConfig == VIRTIO_MMIO_CONFIG);
static_assert(kIntVring == VIRTIO_MMIO_INT_VRING);
static_assert(kIntConfig == VIRTIO_MMIO_INT_CONFIG);
} // namespace viommu::virtio::mmio
