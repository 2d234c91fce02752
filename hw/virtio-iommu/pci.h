// How QEMU 7.2 presents virtio-iommu on PCI (hw/virtio/virtio-iommu-pci.c), for the virtio-pci
// transport (virtio/pci_transport.h).
#pragma once

#include <cstdint>

#include <linux/virtio_ids.h>

#include "virtio/pci_transport.h"

namespace viommu::hw::virtio_iommu {

// virtio v1.2 §4.1.2: 0x1040 + the virtio device ID (23). QEMU forces a modern-only function
// (virtio_iommu_pci_realize() calls virtio_pci_force_virtio_1()), so no transitional ID.
inline constexpr uint16_t kPciDeviceId = 0x1040 + VIRTIO_ID_IOMMU;
static_assert(kPciDeviceId == 0x1057);

// virtio_iommu_pci_class_init() sets class_id = PCI_CLASS_OTHERS, 0xff00 in QEMU's pci_ids.h (base
// class 0xff, "does not fit a defined class", subclass 0), and its "class" property defaults to 0,
// which keeps it. The programming interface is 0.
inline constexpr uint32_t kPciClassCode = 0xff0000;

// virtio-iommu-pci has no "vectors" property, so QEMU gives it no MSI-X (virtio_pci_device_plugged()
// calls msix_init_exclusive_bar() only when proxy->nvectors is set): its interrupt is INTx. A board
// that wants MSI-X, as other virtio-pci devices have it, names the number of vectors.
inline virtio::PciFunctionIdentity pci_identity(uint16_t msix_vectors = 0)
{
    virtio::PciFunctionIdentity id;
    id.device_id = kPciDeviceId;
    id.class_code = kPciClassCode;
    id.msix_vectors = msix_vectors;
    return id;
}

} // namespace viommu::hw::virtio_iommu
