// The virtio-iommu's requests per endpoint, from its trace: QEMU 7.2's (`-trace 'virtio_iommu_*'`, log
// backend) or viommu's own (hw/virtio-iommu/trace_events.h, named like QEMU's). Both are read into the
// view QEMU 7.2's trace allows:
//   - QEMU 7.2 has no trace point for a PROBE request: a PROBE shows only as the reserved regions it
//     fills (virtio_iommu_fill_resv_property, one line per region; q35 reports one, the MSI window).
//     A PROBE the device answers with NOENT fills nothing and leaves no line. viommu traces every
//     PROBE (virtio_iommu_probe) and its status (virtio_iommu_request_done type=5): only those answered
//     OK are counted.
//   - MAP and UNMAP name a domain: they count for every endpoint attached to it at the time.
#pragma once

#include <string_view>
#include <vector>

#include "system/truth/observation.h"

namespace viommu::system::truth {

struct TraceRequests {
    std::vector<EndpointRequests> endpoints; // in endpoint order
    std::vector<uint32_t> attach_order;      // endpoints in the order of their first ATTACH
};

// Lines that are not a virtio_iommu trace line (other log output) are skipped; a "PID@SECONDS:" prefix
// (QEMU's -msg timestamp=on) is allowed.
TraceRequests trace_requests(std::string_view trace);

} // namespace viommu::system::truth
