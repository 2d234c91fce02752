#include "system/truth/model_observation.h"

#include <algorithm>

#include "system/truth/trace_requests.h"

namespace viommu::system::truth {

Observation observation_from_model(const boot::GuestReport& report, std::string_view device_trace)
{
    Observation o;
    o.guest = report.guest;
    o.kernel = report.kernel;
    o.kernel_version = report.kernel_version;
    o.iommu_driver_ready = report.iommu.driver_ready;
    o.iommu_device = report.iommu.device;
    o.iommu_bdf = report.iommu.bdf;
    o.features = report.iommu.features;
    for (const boot::DeviceReport& r : report.devices) {
        DeviceObservation d{r.bdf, r.driver, r.group, r.domain, r.reserved_regions, std::nullopt};
        if (r.vfio)
            d.vfio = VfioOutcome{r.vfio->admitted, r.vfio->admitted ? "" : guest::vfio::stage_name(r.vfio->stage),
                                 r.vfio->admitted ? 0 : r.vfio->error};
        o.devices.push_back(std::move(d));
    }
    std::sort(o.devices.begin(), o.devices.end(),
              [](const DeviceObservation& a, const DeviceObservation& b) { return a.bdf < b.bdf; });
    TraceRequests requests = trace_requests(device_trace);
    o.endpoints = std::move(requests.endpoints);
    o.attach_order = std::move(requests.attach_order);
    return o;
}

} // namespace viommu::system::truth
