// Trace points of the virtio-iommu device. Those QEMU 7.2 has (hw/virtio/trace-events) carry its name,
// its arguments and its format, so a `-trace 'virtio_iommu_*'` log of QEMU and one of ours compare line
// by line; QEMU's printf "%d" of a uint32_t prints it as a signed int, hence the int32_t casts at the
// call sites. QEMU's memory-API events (notify_map, notify_unmap, remap, set_page_size_mask,
// notify_flag_add/del, init_iommu_mr, switch_address_space) have no counterpart here: there are no
// IOMMU memory regions to notify. The last four events are viommu's own.
#pragma once

#include <cstdint>

#include "base/trace/trace.h"

VIOMMU_TRACE_POINT(virtio_iommu_device_reset, (), (), "reset!")
VIOMMU_TRACE_POINT(virtio_iommu_system_reset, (), (), "system reset!")
VIOMMU_TRACE_POINT(virtio_iommu_get_features, (uint64_t features), (features), "device supports features=0x{:x}")
VIOMMU_TRACE_POINT(virtio_iommu_device_status, (unsigned status), (status), "driver status = {}")
VIOMMU_TRACE_POINT(virtio_iommu_get_config, (uint64_t page_size_mask, uint64_t start, uint64_t end, int32_t domain_start,
                                             int32_t domain_end, uint32_t probe_size, unsigned bypass),
                   (page_size_mask, start, end, domain_start, domain_end, probe_size, bypass),
                   "page_size_mask=0x{:x} input range start=0x{:x} input range end=0x{:x} domain range start={} "
                   "domain range end={} probe_size=0x{:x} bypass=0x{:x}")
VIOMMU_TRACE_POINT(virtio_iommu_set_config, (unsigned bypass), (bypass), "bypass=0x{:x}")
VIOMMU_TRACE_POINT(virtio_iommu_attach, (int32_t domain, int32_t endpoint), (domain, endpoint), "domain={} endpoint={}")
VIOMMU_TRACE_POINT(virtio_iommu_detach, (int32_t domain, int32_t endpoint), (domain, endpoint), "domain={} endpoint={}")
VIOMMU_TRACE_POINT(virtio_iommu_map, (int32_t domain, uint64_t virt_start, uint64_t virt_end, uint64_t phys_start,
                                      int32_t flags),
                   (domain, virt_start, virt_end, phys_start, flags),
                   "domain={} virt_start=0x{:x} virt_end=0x{:x} phys_start=0x{:x} flags={}")
VIOMMU_TRACE_POINT(virtio_iommu_unmap, (int32_t domain, uint64_t virt_start, uint64_t virt_end),
                   (domain, virt_start, virt_end), "domain={} virt_start=0x{:x} virt_end=0x{:x}")
VIOMMU_TRACE_POINT(virtio_iommu_unmap_done, (int32_t domain, uint64_t virt_start, uint64_t virt_end),
                   (domain, virt_start, virt_end), "domain={} virt_start=0x{:x} virt_end=0x{:x}")
// QEMU names the endpoint's IOMMU memory region (mr=virtio-iommu-memory-region-N-DEVFN, N in QEMU's
// creation order); there is none here, so the region is named after the endpoint: mr=endpoint-ID.
VIOMMU_TRACE_POINT(virtio_iommu_translate, (uint32_t endpoint, int32_t rid, uint64_t addr, int flag),
                   (endpoint, rid, addr, flag), "mr=endpoint-{} rid={} addr=0x{:x} flag={}")
VIOMMU_TRACE_POINT(virtio_iommu_get_endpoint, (int32_t endpoint), (endpoint), "Alloc endpoint={}")
VIOMMU_TRACE_POINT(virtio_iommu_put_endpoint, (int32_t endpoint), (endpoint), "Free endpoint={}")
VIOMMU_TRACE_POINT(virtio_iommu_get_domain, (int32_t domain), (domain), "Alloc domain={}")
VIOMMU_TRACE_POINT(virtio_iommu_put_domain, (int32_t domain), (domain), "Free domain={}")
VIOMMU_TRACE_POINT(virtio_iommu_translate_out, (uint64_t virt_addr, uint64_t phys_addr, int32_t sid),
                   (virt_addr, phys_addr, sid), "0x{:x} -> 0x{:x} for sid={}")
VIOMMU_TRACE_POINT(virtio_iommu_report_fault, (unsigned reason, int32_t flags, int32_t endpoint, uint64_t address),
                   (reason, flags, endpoint, address), "FAULT reason={} flags={} endpoint={} address =0x{:x}")
VIOMMU_TRACE_POINT(virtio_iommu_fill_resv_property, (int32_t devid, unsigned subtype, uint64_t start, uint64_t end),
                   (devid, subtype, start, end), "dev= {}, type={} start=0x{:x} end=0x{:x}")

// viommu's own: the PROBE QEMU does not trace, every request's status, a request left unanswered, and
// a fault report dropped for want of an event buffer.
VIOMMU_TRACE_POINT(virtio_iommu_probe, (uint32_t endpoint), (endpoint), "endpoint={}")
VIOMMU_TRACE_POINT(virtio_iommu_request_done, (unsigned type, const char* status), (type, status),
                   "type={} status={}")
VIOMMU_TRACE_POINT(virtio_iommu_request_unwritten, (unsigned type, const char* why), (type, why),
                   "type={} reason=\"{}\"")
VIOMMU_TRACE_POINT(virtio_iommu_fault_dropped, (uint32_t endpoint, uint64_t address), (endpoint, address),
                   "endpoint={} address=0x{:x}")
