// Runs a request script against a virtio-iommu: a machine with the device behind virtio-mmio, the bare
// request client negotiating like a driver, each step sent through the real request queue, and one
// JSON object per step (and per fault report) in the format of docs/replay.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "system/machine/machine.h"
#include "system/replay/script.h"
#include "guest-model/virtio-iommu/request_client.h"
#include "hw/virtio-iommu/device.h"

namespace viommu::system::replay {

struct ReplayOptions {
    hw::virtio_iommu::IommuConfig device;
    virtio::FeatureBits decline = 0; // offered features the driver does not accept
    uint32_t event_buffers = 64;
};

class Runner {
public:
    // Builds the machine and brings the device up; a device configuration error is thrown as
    // std::invalid_argument (a host-side mistake), a failed bring-up is returned by start().
    explicit Runner(ReplayOptions options);
    [[nodiscard]] Expected<void, std::string> start();

    // Runs the steps in order; each output line goes to `out`. Returns false when the device stopped
    // answering (it gave up with NEEDS_RESET): later steps are reported with an "error" member.
    bool run(const std::vector<Step>& steps, const std::function<void(const std::string&)>& out);

    hw::virtio_iommu::VirtioIommu& device() { return device_; }

private:
    std::string run_step(const Step& step, std::vector<std::string>& events);

    ReplayOptions options_;
    system::machine::Machine machine_;
    hw::virtio_iommu::VirtioIommu& device_;
    guest::virtio_iommu::IommuRequestClient client_;
};

} // namespace viommu::system::replay
