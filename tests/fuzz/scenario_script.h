// Scenarios as viommu-replay request scripts and back (docs/replay.md, "Request scripts"): a finding of
// fuzz-requests or fuzz-differential becomes a script a person can read, edit and replay, and the
// conformance scripts become seed inputs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "tests/fuzz/scenario.h"

namespace viommu::fuzz {

// viommu-replay's options for the device and the driver, one word a line, as the .args files beside
// tests/conformance/scripts/*.txt hold them.
std::vector<std::string> replay_args(const DeviceChoice& device);

// The first `count` actions as script lines. A well-formed request becomes its typed line, anything else
// a `raw` line; a batch or a descriptor split, which a script cannot express, is noted in a comment.
std::string render_script(const Scenario& scenario, std::size_t count = SIZE_MAX);

// The options and the first `count` actions, for a finding's report.
std::string describe_scenario(const Scenario& scenario, std::size_t count = SIZE_MAX);

// A script and the viommu-replay options it runs with, as a scenario (dma lengths, raw bytes and
// options carried over exactly).
[[nodiscard]] Expected<Scenario, std::string> scenario_from_script(std::string_view script,
                                                                   const std::vector<std::string>& args);

} // namespace viommu::fuzz
