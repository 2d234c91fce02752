// A request script on two virtio-iommus, line by line (viommu-replay --against): each step's output
// from ours and from the peer, and for every step where they differ, whether a documented deviation
// explains it. dma steps the peer cannot make are reported as not comparable, never dropped.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hw/virtio-iommu/behaviour.h"
#include "system/replay/runner.h"

namespace viommu::system::replay {

// A known way the two devices differ, and what our device answers for each step when it behaves that
// way: a difference is explained by the first deviation whose outputs give the peer's answer there.
struct Deviation {
    std::string name; // what docs/conformance.md calls the row, e.g. "5.13.6.6 MAP: alignment not checked"
    std::vector<StepOutput> outputs;
};

struct Comparison {
    std::vector<std::string> lines; // JSON objects, one per differing or not comparable step
    std::size_t differences = 0;
    std::size_t unexplained = 0;
    std::size_t not_comparable = 0;
};

// ours and theirs: one StepOutput per step, in order.
Comparison compare(const std::vector<Step>& steps, const std::vector<StepOutput>& ours,
                   const std::vector<StepOutput>& theirs, const std::vector<Deviation>& deviations,
                   std::string_view peer_name);

// Runs every step and collects the outputs (a runner that gave up keeps reporting errors).
std::vector<StepOutput> run_all(Runner& runner, const std::vector<Step>& steps);

// What our device answers under each departure of `peer` from the behaviour `options` gives it, alone
// (system/replay/departures.h), then under all of them together: the deviations compare() explains by.
std::vector<Deviation> departure_runs(const ReplayOptions& options, const hw::virtio_iommu::DeviceProfile& peer,
                                      const std::vector<Step>& steps);

} // namespace viommu::system::replay
