// Trace points of the virtio-iommu device, named and formatted like QEMU's hw/virtio/trace-events.
#pragma once

#include <cstdint>

#include "base/trace/trace.h"

VIOMMU_TRACE_POINT(virtio_iommu_attach, (uint32_t domain, uint32_t endpoint, bool bypass), (domain, endpoint, bypass),
                   "domain={} endpoint={} bypass={}")
VIOMMU_TRACE_POINT(virtio_iommu_detach, (uint32_t domain, uint32_t endpoint), (domain, endpoint),
                   "domain={} endpoint={}")
VIOMMU_TRACE_POINT(virtio_iommu_map, (uint32_t domain, uint64_t virt_start, uint64_t virt_end, uint64_t phys_start,
                                      uint32_t flags),
                   (domain, virt_start, virt_end, phys_start, flags),
                   "domain={} virt_start={:#x} virt_end={:#x} phys_start={:#x} flags={}")
VIOMMU_TRACE_POINT(virtio_iommu_unmap, (uint32_t domain, uint64_t virt_start, uint64_t virt_end),
                   (domain, virt_start, virt_end), "domain={} virt_start={:#x} virt_end={:#x}")
VIOMMU_TRACE_POINT(virtio_iommu_probe, (uint32_t endpoint), (endpoint), "endpoint={}")
VIOMMU_TRACE_POINT(virtio_iommu_request_done, (unsigned type, const char* status), (type, status),
                   "type={} status={}")
VIOMMU_TRACE_POINT(virtio_iommu_request_unwritten, (unsigned type, const char* why), (type, why),
                   "type={} reason=\"{}\"")
VIOMMU_TRACE_POINT(virtio_iommu_translate, (uint32_t endpoint, uint64_t iova, char access), (endpoint, iova, access),
                   "endpoint={} iova={:#x} access={}")
VIOMMU_TRACE_POINT(virtio_iommu_translate_out, (uint32_t endpoint, uint64_t iova, uint64_t gpa), (endpoint, iova, gpa),
                   "endpoint={} iova={:#x} gpa={:#x}")
VIOMMU_TRACE_POINT(virtio_iommu_report_fault, (unsigned reason, uint32_t flags, uint32_t endpoint, uint64_t address),
                   (reason, flags, endpoint, address), "reason={} flags={:#x} endpoint={} address={:#x}")
VIOMMU_TRACE_POINT(virtio_iommu_fault_dropped, (uint32_t endpoint, uint64_t address), (endpoint, address),
                   "endpoint={} address={:#x}")
VIOMMU_TRACE_POINT(virtio_iommu_set_bypass, (unsigned bypass), (bypass), "bypass={}")
