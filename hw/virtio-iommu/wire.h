// The virtio-iommu wire format (virtio v1.2 §5.13), declared once and checked field by field against
// the kernel's <linux/virtio_iommu.h> in layout_check.cc.
#pragma once

#include <cstdint>

#include "virtio/wire/le.h"

namespace viommu::hw::virtio_iommu::wire {

using virtio::le16;
using virtio::le32;
using virtio::le64;

inline constexpr uint32_t kDeviceId = 23;
inline constexpr unsigned kRequestQueue = 0;
inline constexpr unsigned kEventQueue = 1;

// §5.13.3 Feature bits.
inline constexpr unsigned kFInputRange = 0;
inline constexpr unsigned kFDomainRange = 1;
inline constexpr unsigned kFMapUnmap = 2;
inline constexpr unsigned kFBypass = 3;
inline constexpr unsigned kFProbe = 4;
inline constexpr unsigned kFMmio = 5;
inline constexpr unsigned kFBypassConfig = 6;

struct Range64 {
    le64 start;
    le64 end;
};
struct Range32 {
    le32 start;
    le32 end;
};

// §5.13.4 Device configuration layout.
struct Config {
    le64 page_size_mask;
    Range64 input_range;
    Range32 domain_range;
    le32 probe_size;
    uint8_t bypass;
    uint8_t reserved[3];
};
static_assert(sizeof(Config) == 40);

// §5.13.6 Device operations.
inline constexpr uint8_t kTAttach = 1;
inline constexpr uint8_t kTDetach = 2;
inline constexpr uint8_t kTMap = 3;
inline constexpr uint8_t kTUnmap = 4;
inline constexpr uint8_t kTProbe = 5;

struct ReqHead {
    uint8_t type;
    uint8_t reserved[3];
};
struct ReqTail {
    uint8_t status;
    uint8_t reserved[3];
};

inline constexpr uint32_t kAttachFBypass = 1;

// Each request without its tail: what the device reads from the device-readable part.
struct ReqAttach {
    ReqHead head;
    le32 domain;
    le32 endpoint;
    le32 flags;
    uint8_t reserved[4];
};
struct ReqDetach {
    ReqHead head;
    le32 domain;
    le32 endpoint;
    uint8_t reserved[8];
};

inline constexpr uint32_t kMapFRead = 1;
inline constexpr uint32_t kMapFWrite = 2;
inline constexpr uint32_t kMapFMmio = 4;

struct ReqMap {
    ReqHead head;
    le32 domain;
    le64 virt_start;
    le64 virt_end;
    le64 phys_start;
    le32 flags;
};
struct ReqUnmap {
    ReqHead head;
    le32 domain;
    le64 virt_start;
    le64 virt_end;
    uint8_t reserved[4];
};
struct ReqProbe {
    ReqHead head;
    le32 endpoint;
    uint8_t reserved[64];
};

// §5.13.6.8 PROBE properties.
inline constexpr uint16_t kProbeTNone = 0;
inline constexpr uint16_t kProbeTResvMem = 1;
inline constexpr uint16_t kProbeTMask = 0xfff;

struct ProbeProperty {
    le16 type;
    le16 length; // of what follows this header
};

inline constexpr uint8_t kResvMemTReserved = 0;
inline constexpr uint8_t kResvMemTMsi = 1;

struct ProbeResvMem {
    ProbeProperty head;
    uint8_t subtype;
    uint8_t reserved[3];
    le64 start;
    le64 end;
};
static_assert(sizeof(ProbeResvMem) == 24);

// viommu's experimental non-coherent DMA extension. NOT FROM ANY PUBLISHED SPEC: the bit, the type and
// the layout are viommu's own choice (docs/noncoherent-extension.md) and may clash with a future virtio
// spec. The bit is outside 0-6, the virtio-iommu bits §5.13.3 assigns, at the top of the first
// device-specific range (0-23); the type is outside 0-1, the types §5.13.6.8 assigns, in the top half
// of the 12-bit type space. guest-model/virtio-iommu/x_noncoherent.h is the driver's copy.
inline constexpr unsigned kFXNoncoherent = 23;
inline constexpr uint16_t kProbeTXNoncoherent = 0x800;
inline constexpr uint32_t kXNoncoherentFNoSnoop = 1; // the endpoint's DMA does not snoop CPU caches

struct ProbeXNoncoherent {
    ProbeProperty head;
    le32 flags;
};
static_assert(sizeof(ProbeXNoncoherent) == 8);

// §5.13.7 Fault reports on the event queue.
inline constexpr uint8_t kFaultRUnknown = 0;
inline constexpr uint8_t kFaultRDomain = 1;
inline constexpr uint8_t kFaultRMapping = 2;

inline constexpr uint32_t kFaultFRead = 1;
inline constexpr uint32_t kFaultFWrite = 2;
inline constexpr uint32_t kFaultFExec = 4;
inline constexpr uint32_t kFaultFAddress = 1u << 8;

struct Fault {
    uint8_t reason;
    uint8_t reserved[3];
    le32 flags;
    le32 endpoint;
    uint8_t reserved2[4];
    le64 address;
};
static_assert(sizeof(Fault) == 24);

} // namespace viommu::hw::virtio_iommu::wire
