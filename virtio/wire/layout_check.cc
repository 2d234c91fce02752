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
#include "virtio/wire/packed_ring.h"
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

static_assert(sizeof(PackedDesc) == sizeof(vring_packed_desc));
SAME_FIELD(PackedDesc, vring_packed_desc, addr);
SAME_FIELD(PackedDesc, vring_packed_desc, len);
SAME_FIELD(PackedDesc, vring_packed_desc, id);
SAME_FIELD(PackedDesc, vring_packed_desc, flags);
static_assert(sizeof(EventSuppress) == sizeof(vring_packed_desc_event));
SAME_FIELD(EventSuppress, vring_packed_desc_event, off_wrap);
SAME_FIELD(EventSuppress, vring_packed_desc_event, flags);
static_assert(kPackedDescFAvail == (1 << VRING_PACKED_DESC_F_AVAIL));
static_assert(kPackedDescFUsed == (1 << VRING_PACKED_DESC_F_USED));
static_assert(kRingEventFlagsEnable == VRING_PACKED_EVENT_FLAG_ENABLE);
static_assert(kRingEventFlagsDisable == VRING_PACKED_EVENT_FLAG_DISABLE);
static_assert(kRingEventFlagsDesc == VRING_PACKED_EVENT_FLAG_DESC);
static_assert(kEventWrapShift == VRING_PACKED_EVENT_F_WRAP_CTR);

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

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "virtio/wire/pci_regs.h"

namespace viommu::virtio::pci {
static_assert(kConfigSpaceSize == PCI_CFG_SPACE_SIZE);
static_assert(kVendorId == PCI_VENDOR_ID && kDeviceId == PCI_DEVICE_ID && kCommand == PCI_COMMAND);
static_assert(kStatus == PCI_STATUS && kRevisionId == PCI_REVISION_ID && kClassProg == PCI_CLASS_PROG);
static_assert(kCacheLineSize == PCI_CACHE_LINE_SIZE && kHeaderType == PCI_HEADER_TYPE);
static_assert(kBar0 == PCI_BASE_ADDRESS_0 && kSubsystemVendorId == PCI_SUBSYSTEM_VENDOR_ID);
static_assert(kSubsystemId == PCI_SUBSYSTEM_ID && kCapabilityList == PCI_CAPABILITY_LIST);
static_assert(kInterruptLine == PCI_INTERRUPT_LINE && kInterruptPin == PCI_INTERRUPT_PIN);
static_assert(kCommandIo == PCI_COMMAND_IO && kCommandMemory == PCI_COMMAND_MEMORY);
static_assert(kCommandMaster == PCI_COMMAND_MASTER && kCommandIntxDisable == PCI_COMMAND_INTX_DISABLE);
static_assert(kStatusInterrupt == PCI_STATUS_INTERRUPT && kStatusCapList == PCI_STATUS_CAP_LIST);
static_assert(kBarMemType64 == PCI_BASE_ADDRESS_MEM_TYPE_64 && kBarMemPrefetch == PCI_BASE_ADDRESS_MEM_PREFETCH);
static_assert(kBarIo == PCI_BASE_ADDRESS_SPACE_IO && kBarMemTypeMask == PCI_BASE_ADDRESS_MEM_TYPE_MASK);
static_assert(kCapIdVendor == PCI_CAP_ID_VNDR && kCapIdMsix == PCI_CAP_ID_MSIX);
static_assert(kMsixFlags == PCI_MSIX_FLAGS && kMsixTable == PCI_MSIX_TABLE && kMsixPba == PCI_MSIX_PBA);
static_assert(kMsixFlagsTableSize == PCI_MSIX_FLAGS_QSIZE && kMsixFlagsMaskAll == PCI_MSIX_FLAGS_MASKALL);
static_assert(kMsixFlagsEnable == PCI_MSIX_FLAGS_ENABLE && kMsixEntrySize == PCI_MSIX_ENTRY_SIZE);
static_assert(kMsixEntryLowerAddr == PCI_MSIX_ENTRY_LOWER_ADDR && kMsixEntryUpperAddr == PCI_MSIX_ENTRY_UPPER_ADDR);
static_assert(kMsixEntryData == PCI_MSIX_ENTRY_DATA && kMsixEntryVectorCtrl == PCI_MSIX_ENTRY_VECTOR_CTRL);
static_assert(kMsixEntryCtrlMaskBit == PCI_MSIX_ENTRY_CTRL_MASKBIT);

static_assert(kCapCommonCfg == VIRTIO_PCI_CAP_COMMON_CFG && kCapNotifyCfg == VIRTIO_PCI_CAP_NOTIFY_CFG);
static_assert(kCapIsrCfg == VIRTIO_PCI_CAP_ISR_CFG && kCapDeviceCfg == VIRTIO_PCI_CAP_DEVICE_CFG);
static_assert(kCapPciCfg == VIRTIO_PCI_CAP_PCI_CFG);
static_assert(kCapVndr == VIRTIO_PCI_CAP_VNDR && kCapNext == VIRTIO_PCI_CAP_NEXT && kCapLen == VIRTIO_PCI_CAP_LEN);
static_assert(kCapCfgType == VIRTIO_PCI_CAP_CFG_TYPE && kCapBar == VIRTIO_PCI_CAP_BAR);
static_assert(kCapOffset == VIRTIO_PCI_CAP_OFFSET && kCapLength == VIRTIO_PCI_CAP_LENGTH);
static_assert(kCapSize == sizeof(virtio_pci_cap) && kCapId == offsetof(virtio_pci_cap, id));
static_assert(kNotifyCapSize == sizeof(virtio_pci_notify_cap));
static_assert(kCapNotifyOffMultiplier == offsetof(virtio_pci_notify_cap, notify_off_multiplier));
static_assert(kPciCfgCapSize == sizeof(virtio_pci_cfg_cap) && kPciCfgData == offsetof(virtio_pci_cfg_cap, pci_cfg_data));

static_assert(kDeviceFeatureSelect == VIRTIO_PCI_COMMON_DFSELECT && kDeviceFeature == VIRTIO_PCI_COMMON_DF);
static_assert(kDriverFeatureSelect == VIRTIO_PCI_COMMON_GFSELECT && kDriverFeature == VIRTIO_PCI_COMMON_GF);
static_assert(kMsixConfig == VIRTIO_PCI_COMMON_MSIX && kNumQueues == VIRTIO_PCI_COMMON_NUMQ);
static_assert(kDeviceStatus == VIRTIO_PCI_COMMON_STATUS && kConfigGeneration == VIRTIO_PCI_COMMON_CFGGENERATION);
static_assert(kQueueSelect == VIRTIO_PCI_COMMON_Q_SELECT && kQueueSize == VIRTIO_PCI_COMMON_Q_SIZE);
static_assert(kQueueMsixVector == VIRTIO_PCI_COMMON_Q_MSIX && kQueueEnable == VIRTIO_PCI_COMMON_Q_ENABLE);
static_assert(kQueueNotifyOff == VIRTIO_PCI_COMMON_Q_NOFF && kQueueDesc == VIRTIO_PCI_COMMON_Q_DESCLO);
static_assert(kQueueDriver == VIRTIO_PCI_COMMON_Q_AVAILLO && kQueueDevice == VIRTIO_PCI_COMMON_Q_USEDLO);
#ifdef VIRTIO_PCI_COMMON_Q_RESET // newer uapi headers only
static_assert(kQueueNotifyData == VIRTIO_PCI_COMMON_Q_NDATA && kQueueReset == VIRTIO_PCI_COMMON_Q_RESET);
#endif
static_assert(kNoVector == VIRTIO_MSI_NO_VECTOR);
} // namespace viommu::virtio::pci
