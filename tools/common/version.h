// --version for every tool: meson's project version, and where the tools were built from a git clone,
// `git describe --always --dirty` of it, so that a CI log names the exact build that gave a verdict.
#pragma once

#include <string>
#include <string_view>

namespace viommu::tools {

// "viommu-boot 0.1.0 (git 59320b2-dirty)", or "viommu-boot 0.1.0" for a build without git.
std::string version_text(std::string_view tool);

} // namespace viommu::tools
