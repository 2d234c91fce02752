// What `viommu-boot --workload` asks of a boot: the pattern, the cost table, and how many I/Os each
// endpoint runs.
#pragma once

#include "system/workload/cost_table.h"
#include "system/workload/pattern.h"

namespace viommu::system::workload {

struct Request {
    const Pattern* pattern = nullptr;
    CostTable costs;
    bool costs_from_file = false;
    // 255 I/Os back to back: a DMA-FQ domain's flush queue holds 255 IOVAs (IOVA_FQ_SIZE 256 slots, one
    // kept free), so for any number of unmaps per I/O the run ends with whole queues flushed and its
    // flushes per I/O are the steady state's, not rounded.
    unsigned ios = 255;
};

} // namespace viommu::system::workload
