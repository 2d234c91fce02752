// What a workload run found per endpoint: the events one I/O caused, counted on the guest's
// virtio-iommu driver, its dma-iommu layer and the device, averaged over the run; and the latency the
// cost table makes of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "system/workload/cost_table.h"

namespace viommu::system::workload {

// Counts over a whole run; divided by the run's I/Os for the report.
struct Events {
    uint64_t dma_maps = 0;       // DMA API map calls (dma_map_page(), dma_map_sg())
    uint64_t dma_unmaps = 0;
    uint64_t map_requests = 0;   // MAP requests the virtio-iommu driver added to the request queue
    uint64_t unmap_requests = 0;
    uint64_t kicks = 0;          // notifications of the request queue
    uint64_t syncs = 0;          // waits for the device's answers (__viommu_sync_req())
    uint64_t iotlb_flushes = 0;  // iotlb_sync() after a strict unmap, flush_iotlb_all() of a flush queue
    uint64_t device_requests = 0; // requests the device handled

    Events operator-(const Events& earlier) const;
};

// How an endpoint's DMA is mapped: the domain type of its group, which follows the kernel profile and
// iommu.strict= / iommu.passthrough= on the kernel command line.
enum class Mode {
    kStrict,      // DMA: every unmap waits for the invalidation
    kLazy,        // DMA-FQ: unmapped IOVAs wait in a flush queue, flushed 256 at a time
    kPassthrough, // identity: dma-direct, no MAP or UNMAP
    kNoIommu,     // no IOMMU group or no IOMMU: dma-direct
    kNoDmaApi,    // a virtio device without VIRTIO_F_ACCESS_PLATFORM: virtio_ring bypasses the DMA API
};
std::string_view mode_name(Mode m);

struct EndpointResult {
    std::string bdf;
    std::string label;
    std::string driver; // the driver whose calls were run ("virtio_blk", "ahci", ...)
    Mode mode = Mode::kStrict;
    std::string domain; // the group's domain type ("DMA", "DMA-FQ", "identity", "" none)
    unsigned ios = 0;
    Events events;      // over the whole run
    std::string error;  // a map that failed or a DMA that faulted: the run stopped there

    double per_io(uint64_t count) const { return ios ? static_cast<double>(count) / ios : 0; }
    // What the IOMMU adds to one I/O under the cost table, in ns.
    double added_ns(const CostTable& costs) const;
};

struct Report {
    std::string pattern;
    CostTable costs;
    bool costs_from_file = false;
    std::vector<EndpointResult> endpoints;
    // Endpoints the pattern applies to but that were not run, and why ("bound to vfio-pci", ...).
    std::vector<std::pair<std::string, std::string>> skipped;
};

} // namespace viommu::system::workload
