// What each event behind an I/O costs, in nanoseconds: the modelled latency of an I/O is the sum of its
// counted events times these costs, plus the I/O's own latency without an IOMMU when one is given.
// docs/PERFORMANCE.md ("What a vIOMMU costs per I/O") says where each default comes from; a JSON file
// (`viommu-boot --workload-costs FILE`) overrides any of them.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace viommu::system::workload {

struct CostTable {
    // A notification of the virtio-iommu's request queue and the wait for its answer: the bare qtest
    // round trip to QEMU 7.2 measured by viommu-bench (qemu_peer/qtest_round_trip, 31.8 us in run A).
    double kick_ns = 31800;
    // A wait for the device beyond the round trip of its kick: 0, since every sync of the virtio-iommu
    // driver follows its own kick and kick_ns already holds the wait.
    double sync_ns = 0;
    // QEMU's own work for one MAP or UNMAP: under 2 us per request in the same measurement.
    double map_request_ns = 2000;
    double unmap_request_ns = 2000;
    // An IOTLB invalidation beyond its requests: 0, the virtio-iommu has no flush request (a flush is a
    // sync of what is queued, counted as a kick and a sync).
    double iotlb_flush_ns = 0;
    // The guest's own work in dma-iommu per map or unmap call (IOVA allocation, the driver's interval
    // tree): not measured, 0.
    double dma_call_ns = 0;
    // The I/O's latency without an IOMMU, per pattern: not known to viommu, 0 (the report then gives only
    // what the IOMMU adds, no ratio).
    std::map<std::string, double, std::less<>> io_ns;

    double io(std::string_view pattern) const;
    bool operator==(const CostTable&) const = default;
};

// The table a JSON object gives: the defaults with each key present replaced. Refused, with why: text
// that is not one JSON object, an unknown key, a cost that is not a finite number >= 0, and an io_ns
// entry for a pattern that does not exist.
Expected<CostTable, std::string> parse_cost_table(std::string_view json);

} // namespace viommu::system::workload
