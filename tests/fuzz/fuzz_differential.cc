// fuzz-differential: the scenarios of fuzz-requests go to the device and to a deliberately simple model
// of the spec written independently in the test tree (reference_model.h). Every answer must agree:
// each request's used length and written bytes (status, tail, PROBE properties), each translation (its
// guest-physical address and how far it reaches), each fault report, and whether the device gave up.
// A disagreement aborts with the scenario as a viommu-replay script and both answers.
#include <cstddef>
#include <cstdint>

#include <fmt/format.h>

#include "tests/fuzz/device_run.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/reference_model.h"
#include "tests/fuzz/scenario_script.h"

using namespace viommu::fuzz;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const Scenario s = decode_scenario({data, size});
    DeviceRun device(s.device);
    ReferenceModel model(s.device);
    for (std::size_t i = 0; i < s.actions.size(); ++i) {
        const Observation seen = device.apply(s.actions[i]);
        const Observation expected = model.apply(s.actions[i]);
        if (seen != expected)
            finding(fmt::format("fuzz-differential: the device and the reference model disagree on the last line of\n"
                                "{}\ndevice:\n{}model:\n{}",
                                describe_scenario(s, i + 1), describe(seen), describe(expected)));
    }
    return 0;
}
