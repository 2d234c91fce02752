// virtio-mmio register map, version 2 (virtio v1.2 §4.2.2, "MMIO Device Register Layout").
// Checked against <linux/virtio_mmio.h> in layout_check.cc.
#pragma once

#include <cstdint>

namespace viommu::virtio::mmio {

enum Reg : uint32_t {
    kMagicValue = 0x000,
    kVersion = 0x004,
    kDeviceId = 0x008,
    kVendorId = 0x00c,
    kDeviceFeatures = 0x010,
    kDeviceFeaturesSel = 0x014,
    kDriverFeatures = 0x020,
    kDriverFeaturesSel = 0x024,
    kQueueSel = 0x030,
    kQueueNumMax = 0x034,
    kQueueNum = 0x038,
    kQueueReady = 0x044,
    kQueueNotify = 0x050,
    kInterruptStatus = 0x060,
    kInterruptAck = 0x064,
    kStatus = 0x070,
    kQueueDescLow = 0x080,
    kQueueDescHigh = 0x084,
    kQueueDriverLow = 0x090,
    kQueueDriverHigh = 0x094,
    kQueueDeviceLow = 0x0a0,
    kQueueDeviceHigh = 0x0a4,
    kShmSel = 0x0ac,
    kShmLenLow = 0x0b0,
    kShmLenHigh = 0x0b4,
    kShmBaseLow = 0x0b8,
    kShmBaseHigh = 0x0bc,
    kQueueReset = 0x0c0,
    kConfigGeneration = 0x0fc,
    kConfig = 0x100,
};

inline constexpr uint32_t kMagic = 0x74726976; // "virt"
inline constexpr uint32_t kVersion2 = 2;
// The window a transport answers: registers plus up to 3840 bytes of device configuration.
inline constexpr uint32_t kWindowSize = 0x1000;

// InterruptStatus bits (§4.2.2).
inline constexpr uint32_t kIntVring = 1;
inline constexpr uint32_t kIntConfig = 2;

} // namespace viommu::virtio::mmio
