// viommu-replay --against qemu: a script on our device and on QEMU's virtio-iommu-pci, and the steps
// where they differ, each explained by the departure of QEMU's release that gives QEMU's answer
// (docs/qemu-peer.md). The tool only prints what this returns.
#pragma once

#include <string>
#include <vector>

#include "system/replay/compare.h"

namespace viommu::system::replay {

struct AgainstQemu {
    enum class Outcome {
        kCompared,       // comparison holds the steps that differ or cannot be compared
        kNotExpressible, // QEMU cannot be given the options or the script's endpoints (bad input)
        kPeerFailed,     // QEMU could not be started, brought up, or stopped answering
        kDeviceFailed,   // our driver could not bring our device up
    } outcome = Outcome::kCompared;
    std::string message;            // why, for every outcome but kCompared
    std::vector<std::string> notes; // said on stderr whatever the outcome (a release with no profile)
    Comparison comparison;
};

// binary: a path, or a name looked up on PATH.
AgainstQemu run_against_qemu(const std::string& binary, const ReplayOptions& options, const std::vector<Step>& steps);

} // namespace viommu::system::replay
