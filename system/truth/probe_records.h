// What truth-probe (tools/truth-probe/truth_probe.c) printed on the guest's console, parsed once: the
// JSON lines between VIOMMU-TRUTH-BEGIN and VIOMMU-TRUTH-END, with everything else on the console (the
// kernel's own messages, the init's) left aside.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "system/truth/observation.h"

namespace viommu::system::truth {

struct PciRecord {
    std::string bdf, vendor, device, driver;
    std::optional<int> group;
};
struct GroupRecord {
    int group = 0;
    std::string type;
    std::vector<std::string> reserved_regions;
};
struct VirtioRecord {
    std::string name, device_id, pci, driver;
    uint64_t features = 0; // sysfs gives one character per bit, bit 0 first
};
struct VfioStep {
    std::string step;
    int error = 0;
};
struct VfioRecord {
    std::string bdf, driver;
    std::vector<VfioStep> steps;
};

struct ProbeOutput {
    std::vector<PciRecord> pci;
    std::vector<GroupRecord> groups;
    std::vector<VirtioRecord> virtio;
    std::vector<VfioRecord> vfio;
    std::vector<std::string> kernel_log; // the kernel's records, oldest first
};

// The probe's records; an error naming the console line that is not one, or saying the markers are
// missing (the guest did not get as far as the probe).
Expected<ProbeOutput, std::string> parse_probe_output(std::string_view console);

// The probe's records as an Observation (without the trace's part, trace_requests.h). A function whose
// vfio-pci bind failed takes its errno from the kernel's "probe with driver vfio-pci failed with error
// -N" line, since the drivers_probe write itself succeeds (bus_rescan_devices_helper() ignores it).
Observation observation_from_probe(const ProbeOutput& out);

// The kernel's version from its banner ("Linux version 6.12.117+deb12-amd64 ..."), "" if absent.
std::string kernel_release(const ProbeOutput& out);

} // namespace viommu::system::truth
