// The guest's clock: nanoseconds since boot, moved only by the model (a boot step, a timer the test
// fires), never by the host's wall clock, so that the same input gives the same log, byte for byte.
#pragma once

#include <cstdint>

namespace viommu::guest::kernel {

inline constexpr uint64_t kNsecPerUsec = 1'000;
inline constexpr uint64_t kNsecPerSec = 1'000'000'000;

class VirtualClock {
public:
    uint64_t now() const { return now_ns_; }
    void advance(uint64_t ns) { now_ns_ += ns; }
    // Moves to an absolute time; the clock never goes back.
    void advance_to(uint64_t ns)
    {
        if (ns > now_ns_)
            now_ns_ = ns;
    }

private:
    uint64_t now_ns_ = 0;
};

} // namespace viommu::guest::kernel
