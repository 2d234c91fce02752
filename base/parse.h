// Parsing of the numbers people type: decimal or 0x-hex, sizes with k/M/G suffixes. Used by command
// lines and request scripts; every failure is a value with a message, never a partial parse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace viommu {

// "42", "0x2a": the whole string, no sign, no overflow past max.
[[nodiscard]] Expected<uint64_t, std::string> parse_u64(std::string_view text, uint64_t max = UINT64_MAX);
// "4096", "4k", "64K", "2M", "1G" (binary units).
[[nodiscard]] Expected<uint64_t, std::string> parse_size(std::string_view text);

} // namespace viommu
