// Writing an output file into a directory someone else may control (viommu-boot --batch writes next to
// its inputs by default): the text goes to a new temporary file created with O_EXCL|O_NOFOLLOW and is
// renamed over the name, so a symbolic link planted at that name is replaced, never followed.
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"

namespace viommu::tools {

// Returns why it failed ("cannot write PATH: reason").
[[nodiscard]] Expected<void, std::string> replace_file(const std::string& path, const std::string& text);

// An output file a user names on the command line (--json FILE): "-" is standard output, as for every
// Unix tool; any other name is created or truncated and written. Returns why it failed.
inline constexpr std::string_view kStandardOutput = "-";
[[nodiscard]] Expected<void, std::string> write_output(const std::string& path, const std::string& text);

} // namespace viommu::tools
