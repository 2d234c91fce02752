// Writing an output file into a directory someone else may control (viommu-boot --batch writes next to
// its inputs by default): the text goes to a new temporary file created with O_EXCL|O_NOFOLLOW and is
// renamed over the name, so a symbolic link planted at that name is replaced, never followed.
#pragma once

#include <string>

#include "base/expected.h"

namespace viommu::tools {

// Returns why it failed ("cannot write PATH: reason").
[[nodiscard]] Expected<void, std::string> replace_file(const std::string& path, const std::string& text);

} // namespace viommu::tools
