// What every fuzz target shares: how a finding is reported, and quiet logs.
#pragma once

#include <string_view>

namespace viommu::fuzz {

// A fuzz target's verdict on an input: prints what went wrong and aborts, so that libFuzzer saves the
// input as a crash and the replay shim names it.
[[noreturn]] void finding(std::string_view what);

// The device logs every guest error at warn level; a fuzzer makes millions of them on purpose.
void quiet_logs();

} // namespace viommu::fuzz
