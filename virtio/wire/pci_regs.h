// The PCI side of virtio-pci: the type 0 configuration header and the MSI-X capability (PCI Local Bus
// Specification 3.0 §6.1, §6.8.2), and the virtio structures of a modern virtio-pci function (virtio
// v1.2 §4.1.4). Checked against <linux/pci_regs.h> and <linux/virtio_pci.h> in layout_check.cc.
#pragma once

#include <cstdint>

namespace viommu::virtio::pci {

// --- Type 0 configuration header (PCI 3.0 §6.1) ---
inline constexpr uint32_t kConfigSpaceSize = 256; // conventional PCI; no extended space
inline constexpr uint32_t kVendorId = 0x00;
inline constexpr uint32_t kDeviceId = 0x02;
inline constexpr uint32_t kCommand = 0x04;
inline constexpr uint32_t kStatus = 0x06;
inline constexpr uint32_t kRevisionId = 0x08;
inline constexpr uint32_t kClassProg = 0x09; // class code: programming interface, subclass, base class
inline constexpr uint32_t kCacheLineSize = 0x0c;
inline constexpr uint32_t kHeaderType = 0x0e;
inline constexpr uint32_t kBar0 = 0x10;
inline constexpr unsigned kBarCount = 6;
inline constexpr uint32_t kSubsystemVendorId = 0x2c;
inline constexpr uint32_t kSubsystemId = 0x2e;
inline constexpr uint32_t kCapabilityList = 0x34;
inline constexpr uint32_t kInterruptLine = 0x3c;
inline constexpr uint32_t kInterruptPin = 0x3d;
// Capabilities start after the header (PCI 3.0 §6.7); QEMU's pci_find_space() allocates from here.
inline constexpr uint32_t kFirstCapability = 0x40;

inline constexpr uint16_t kCommandIo = 0x1;
inline constexpr uint16_t kCommandMemory = 0x2;
inline constexpr uint16_t kCommandMaster = 0x4;
inline constexpr uint16_t kCommandIntxDisable = 0x400;
inline constexpr uint16_t kStatusInterrupt = 0x08;
inline constexpr uint16_t kStatusCapList = 0x10;

inline constexpr uint32_t kBarIo = 0x01; // bit 0: an I/O BAR (PCI 3.0 §6.2.5.1)
inline constexpr uint32_t kBarMemTypeMask = 0x06;
inline constexpr uint32_t kBarMemType64 = 0x04;
inline constexpr uint32_t kBarMemPrefetch = 0x08;

inline constexpr uint8_t kCapIdVendor = 0x09;
inline constexpr uint8_t kCapIdMsix = 0x11;

// --- MSI-X (PCI 3.0 §6.8.2) ---
inline constexpr uint32_t kMsixCapLength = 12;
inline constexpr uint32_t kMsixFlags = 2; // Message Control
inline constexpr uint32_t kMsixTable = 4; // Table Offset/BIR
inline constexpr uint32_t kMsixPba = 8;   // PBA Offset/BIR
inline constexpr uint16_t kMsixFlagsTableSize = 0x07ff;
inline constexpr uint16_t kMsixFlagsMaskAll = 0x4000;
inline constexpr uint16_t kMsixFlagsEnable = 0x8000;
inline constexpr uint32_t kMsixEntrySize = 16;
inline constexpr uint32_t kMsixEntryLowerAddr = 0x0;
inline constexpr uint32_t kMsixEntryUpperAddr = 0x4;
inline constexpr uint32_t kMsixEntryData = 0x8;
inline constexpr uint32_t kMsixEntryVectorCtrl = 0xc;
inline constexpr uint32_t kMsixEntryCtrlMaskBit = 0x1;
// PCI 3.0 §6.8.2.3: at most 2048 table entries.
inline constexpr unsigned kMsixMaxVectors = 2048;

// --- virtio structure capabilities (virtio v1.2 §4.1.4) ---
inline constexpr uint16_t kVirtioVendorId = 0x1af4;
// §4.1.2: a non-transitional device's PCI Device ID is 0x1040 plus its virtio device ID.
inline constexpr uint16_t kModernDeviceIdBase = 0x1040;

enum CfgType : uint8_t {
    kCapCommonCfg = 1,
    kCapNotifyCfg = 2,
    kCapIsrCfg = 3,
    kCapDeviceCfg = 4,
    kCapPciCfg = 5,
};

// struct virtio_pci_cap (§4.1.4): 16 bytes; the notify capability adds notify_off_multiplier, the PCI
// configuration access capability adds pci_cfg_data.
inline constexpr uint32_t kCapVndr = 0;
inline constexpr uint32_t kCapNext = 1;
inline constexpr uint32_t kCapLen = 2;
inline constexpr uint32_t kCapCfgType = 3;
inline constexpr uint32_t kCapBar = 4;
inline constexpr uint32_t kCapId = 5;
inline constexpr uint32_t kCapOffset = 8;
inline constexpr uint32_t kCapLength = 12;
inline constexpr uint32_t kCapSize = 16;
inline constexpr uint32_t kCapNotifyOffMultiplier = 16;
inline constexpr uint32_t kNotifyCapSize = 20;
inline constexpr uint32_t kPciCfgData = 16;
inline constexpr uint32_t kPciCfgCapSize = 20;

// struct virtio_pci_common_cfg (§4.1.4.3).
enum CommonCfg : uint32_t {
    kDeviceFeatureSelect = 0x00,
    kDeviceFeature = 0x04,
    kDriverFeatureSelect = 0x08,
    kDriverFeature = 0x0c,
    kMsixConfig = 0x10,
    kNumQueues = 0x12,
    kDeviceStatus = 0x14,
    kConfigGeneration = 0x15,
    kQueueSelect = 0x16,
    kQueueSize = 0x18,
    kQueueMsixVector = 0x1a,
    kQueueEnable = 0x1c,
    kQueueNotifyOff = 0x1e,
    kQueueDesc = 0x20,
    kQueueDriver = 0x28,
    kQueueDevice = 0x30,
    kQueueNotifyData = 0x38,
    kQueueReset = 0x3a,
    kCommonCfgSize = 0x3c,
};

// §4.1.5.1.2: "no vector": the event raises no interrupt.
inline constexpr uint16_t kNoVector = 0xffff;

} // namespace viommu::virtio::pci
