// viommu's experimental non-coherent DMA extension as the driver model knows it: NOT FROM ANY PUBLISHED
// SPEC, and in no Linux release. It stands for what a patched <linux/virtio_iommu.h> would declare;
// hw/virtio-iommu/wire.h is the device's copy (a test checks they agree). docs/noncoherent-extension.md
// has the design and its open questions.
#pragma once

#include <cstdint>

namespace viommu::guest::virtio_iommu::x_noncoherent {

// A feature bit outside 0-6, which virtio v1.2 §5.13.3 assigns.
inline constexpr unsigned kFeature = 23;
// A PROBE property type outside 0-1, which §5.13.6.8 assigns (12 bits, VIRTIO_IOMMU_PROBE_T_MASK).
inline constexpr uint16_t kProbeType = 0x800;
// The value: le32 flags; bit 0, the endpoint's DMA does not snoop the CPU caches.
inline constexpr uint16_t kValueSize = 4;
inline constexpr uint32_t kFlagNoSnoop = 1;

} // namespace viommu::guest::virtio_iommu::x_noncoherent
