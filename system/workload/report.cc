#include "system/workload/report.h"

namespace viommu::system::workload {

Events Events::operator-(const Events& e) const
{
    return {dma_maps - e.dma_maps,           dma_unmaps - e.dma_unmaps, map_requests - e.map_requests,
            unmap_requests - e.unmap_requests, kicks - e.kicks,           syncs - e.syncs,
            iotlb_flushes - e.iotlb_flushes, device_requests - e.device_requests};
}

std::string_view mode_name(Mode m)
{
    switch (m) {
    case Mode::kStrict: return "strict";
    case Mode::kLazy: return "lazy";
    case Mode::kPassthrough: return "passthrough";
    case Mode::kNoIommu: return "no-iommu";
    case Mode::kNoDmaApi: return "no-dma-api";
    }
    return "?";
}

double EndpointResult::added_ns(const CostTable& c) const
{
    const Events& e = events;
    return per_io(e.dma_maps + e.dma_unmaps) * c.dma_call_ns + per_io(e.map_requests) * c.map_request_ns +
           per_io(e.unmap_requests) * c.unmap_request_ns + per_io(e.kicks) * c.kick_ns + per_io(e.syncs) * c.sync_ns +
           per_io(e.iotlb_flushes) * c.iotlb_flush_ns;
}

} // namespace viommu::system::workload
