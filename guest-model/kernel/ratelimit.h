// printk rate limiting (lib/ratelimit.c ___ratelimit() with DEFAULT_RATELIMIT_INTERVAL = 5 * HZ and
// DEFAULT_RATELIMIT_BURST = 10): at most `burst` messages per interval from one call site; when a new
// interval begins after some were suppressed, "<function>: <n> callbacks suppressed" is printed first.
#pragma once

#include <cstdint>
#include <string>

#include "guest-model/kernel/printk.h"

namespace viommu::guest::kernel {

class Ratelimit {
public:
    static constexpr uint64_t kDefaultIntervalNs = 5ull * 1000 * 1000 * 1000;
    static constexpr int kDefaultBurst = 10;

    explicit Ratelimit(std::string function, uint64_t interval_ns = kDefaultIntervalNs, int burst = kDefaultBurst)
        : function_(std::move(function)), interval_ns_(interval_ns), burst_(burst)
    {
    }

    // Whether the message may print now; records a suppression otherwise.
    bool allow(KernelLog& log, uint64_t now_ns)
    {
        if (!started_ || now_ns - begin_ns_ >= interval_ns_) {
            if (missed_ > 0)
                log.print(LogLevel::warning, "{}: {} callbacks suppressed", function_, missed_);
            started_ = true;
            begin_ns_ = now_ns;
            printed_ = 0;
            missed_ = 0;
        }
        if (printed_ < burst_) {
            ++printed_;
            return true;
        }
        ++missed_;
        return false;
    }

private:
    std::string function_;
    uint64_t interval_ns_;
    int burst_;
    bool started_ = false;
    uint64_t begin_ns_ = 0;
    int printed_ = 0;
    int missed_ = 0;
};

} // namespace viommu::guest::kernel
