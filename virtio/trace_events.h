// Trace points of the virtio core (the counterpart of QEMU's hw/virtio/trace-events).
#pragma once

#include <cstdint>

#include "base/trace/trace.h"

VIOMMU_TRACE_POINT(virtio_set_status, (const char* dev, unsigned old_status, unsigned status),
                   (dev, old_status, status), "dev={} old={:#x} new={:#x}")
VIOMMU_TRACE_POINT(virtio_features_ok, (const char* dev, uint64_t driver, uint64_t device, bool accepted),
                   (dev, driver, device, accepted), "dev={} driver={:#x} device={:#x} accepted={}")
VIOMMU_TRACE_POINT(virtio_device_fail, (const char* dev, const char* reason), (dev, reason), "dev={} reason=\"{}\"")
VIOMMU_TRACE_POINT(virtio_reset, (const char* dev), (dev), "dev={}")
VIOMMU_TRACE_POINT(virtio_notify, (const char* dev, unsigned isr), (dev, isr), "dev={} isr={:#x}")
VIOMMU_TRACE_POINT(virtqueue_notify, (const char* dev, unsigned queue), (dev, queue), "dev={} queue={}")
VIOMMU_TRACE_POINT(virtqueue_ready, (const char* dev, unsigned queue, unsigned size, uint64_t desc, uint64_t avail,
                                     uint64_t used),
                   (dev, queue, size, desc, avail, used),
                   "dev={} queue={} size={} desc={:#x} avail={:#x} used={:#x}")
VIOMMU_TRACE_POINT(virtqueue_pop, (const char* dev, unsigned queue, unsigned head, uint64_t out_bytes,
                                   uint64_t in_bytes),
                   (dev, queue, head, out_bytes, in_bytes), "dev={} queue={} head={} out={} in={}")
VIOMMU_TRACE_POINT(virtqueue_push, (const char* dev, unsigned queue, unsigned head, uint32_t len),
                   (dev, queue, head, len), "dev={} queue={} head={} len={}")
VIOMMU_TRACE_POINT(virtio_mmio_read, (uint64_t offset, unsigned size, uint64_t value), (offset, size, value),
                   "offset={:#x} size={} value={:#x}")
VIOMMU_TRACE_POINT(virtio_mmio_write, (uint64_t offset, unsigned size, uint64_t value), (offset, size, value),
                   "offset={:#x} size={} value={:#x}")
VIOMMU_TRACE_POINT(virtio_mmio_guest_error, (uint64_t offset, const char* what), (offset, what),
                   "offset={:#x} error=\"{}\"")
VIOMMU_TRACE_POINT(virtio_mmio_setting_irq, (unsigned level), (level), "level={}")
VIOMMU_TRACE_POINT(virtio_pci_config_read, (uint32_t offset, unsigned size, uint32_t value), (offset, size, value),
                   "offset={:#x} size={} value={:#x}")
VIOMMU_TRACE_POINT(virtio_pci_config_write, (uint32_t offset, unsigned size, uint32_t value), (offset, size, value),
                   "offset={:#x} size={} value={:#x}")
VIOMMU_TRACE_POINT(virtio_pci_bar_read, (unsigned bar, uint64_t offset, unsigned size, uint64_t value),
                   (bar, offset, size, value), "bar={} offset={:#x} size={} value={:#x}")
VIOMMU_TRACE_POINT(virtio_pci_bar_write, (unsigned bar, uint64_t offset, unsigned size, uint64_t value),
                   (bar, offset, size, value), "bar={} offset={:#x} size={} value={:#x}")
VIOMMU_TRACE_POINT(virtio_pci_guest_error, (const char* where, uint64_t offset, const char* what), (where, offset, what),
                   "{} offset={:#x} error=\"{}\"")
VIOMMU_TRACE_POINT(virtio_pci_intx, (unsigned level), (level), "level={}")
VIOMMU_TRACE_POINT(virtio_pci_msix_send, (uint64_t address, uint32_t data), (address, data),
                   "address={:#x} data={:#x}")
