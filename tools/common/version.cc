#include "tools/common/version.h"

#include <fmt/format.h>

#include "tools/git_describe.h" // generated from tools/common/git_describe.h.in

namespace viommu::tools {

std::string version_text(std::string_view tool)
{
    // VIOMMU_PROJECT_VERSION is meson's project() version (tools/meson.build). Without git, vcs_tag()
    // writes its fallback, and meson takes an empty fallback as none given and writes the project version:
    // either means no commit to name.
    constexpr std::string_view git = VIOMMU_GIT_DESCRIBE;
    if (git.empty() || git == VIOMMU_PROJECT_VERSION)
        return fmt::format("{} {}", tool, VIOMMU_PROJECT_VERSION);
    return fmt::format("{} {} (git {})", tool, VIOMMU_PROJECT_VERSION, git);
}

} // namespace viommu::tools
