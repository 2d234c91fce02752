// /proc/config.gz, or a copy of it: a kernel configuration a user may hand over still compressed.
#pragma once

#include <cstddef>
#include <string>

#include "base/expected.h"

namespace viommu::guest::profiles {

// Whether data starts with gzip's magic bytes (RFC 1952: 0x1f 0x8b).
bool is_gzip(const std::string& data);

// The inflated text of a gzip stream, refused past max_bytes (a small file can inflate to gigabytes).
// The error says why ("not a valid gzip stream", "inflates to more than N MiB").
[[nodiscard]] Expected<std::string, std::string> gunzip(const std::string& data, std::size_t max_bytes);

} // namespace viommu::guest::profiles
