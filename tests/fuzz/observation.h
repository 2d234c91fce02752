// What a driver and an endpoint can see of a virtio-iommu after each scenario action: the answers to
// requests, the outcome of each translation, the fault reports on the event queue, and whether the
// device gave up. The device (device_run.h) and the reference model (reference_model.h) each produce
// one per action; fuzz-differential requires them to be equal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace viommu::fuzz {

struct Reply {
    bool returned = false;         // false: the device never returned the request (it gave up)
    uint32_t used_len = 0;         // 0: returned unwritten
    std::vector<uint8_t> written;  // the first used_len bytes of the writable part
    bool operator==(const Reply&) const = default;
};

struct FaultReport {
    uint8_t reason = 0;
    uint32_t flags = 0;
    uint32_t endpoint = 0;
    uint64_t address = 0;
    bool reserved_zero = true; // reserved and reserved2 written as zero (§5.13.6.9.2)
    bool operator==(const FaultReport&) const = default;
};

// One translate() of an endpoint's access, and the reports it caused.
struct Translated {
    bool ok = false;
    uint64_t gpa = 0;
    uint64_t contiguous = 0;
    std::vector<FaultReport> faults;
    bool operator==(const Translated&) const = default;
};

struct Observation {
    std::vector<Reply> replies;          // a SendAction: one per request, in order
    std::vector<Translated> translated;  // a DmaAction: one per translate(), in order
    bool needs_reset = false;            // DEVICE_NEEDS_RESET after the action
    bool operator==(const Observation&) const = default;
};

// Several lines, for a report of two observations that differ.
std::string describe(const Observation& o);

} // namespace viommu::fuzz
