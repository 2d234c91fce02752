// Runs a request script against a virtio-iommu (a Target: by default our device behind virtio-mmio on a
// machine of its own): the bare request client negotiating like a driver, each step sent through the
// real request queue, and one JSON object per step (and per fault report) in the format of
// docs/replay.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "system/replay/script.h"
#include "system/replay/target.h"

namespace viommu::system::replay {

struct ReplayOptions {
    hw::virtio_iommu::IommuConfig device;
    virtio::FeatureBits decline = 0; // offered features the driver does not accept
    uint32_t event_buffers = 64;
};

// One step's output: its object, then one object per fault report the device wrote during it.
struct StepOutput {
    std::string step;
    std::vector<std::string> events;
};

class Runner {
public:
    // Our device with options.device; a device configuration error is thrown as std::invalid_argument
    // (a host-side mistake).
    explicit Runner(ReplayOptions options);
    // Another target (options.device then only says what the target was built with).
    Runner(ReplayOptions options, std::unique_ptr<Target> target);
    // Brings the device up; why the driver could not.
    [[nodiscard]] Expected<void, std::string> start();

    // Runs the steps in order; each output line goes to `out`. Returns false when the device stopped
    // answering (it gave up with NEEDS_RESET): later steps are reported with an "error" member.
    bool run(const std::vector<Step>& steps, const std::function<void(const std::string&)>& out);
    // One step.
    StepOutput run_step(const Step& step);
    // Whether the device has given up (NEEDS_RESET).
    bool gave_up();

private:
    ReplayOptions options_;
    std::unique_ptr<Target> target_;
};

} // namespace viommu::system::replay
