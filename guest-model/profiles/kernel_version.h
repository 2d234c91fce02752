// A kernel release number: "6.1", "5.15.63", "4.19.300" (a leading "v" is accepted). Mainline releases
// are MAJOR.MINOR (patch 0); stable point releases add the third number.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace viommu::guest::profiles {

struct KernelVersion {
    unsigned major = 0;
    unsigned minor = 0;
    unsigned patch = 0;

    // The error names what was wrong: "\"6.x\" is not a kernel version (expected MAJOR.MINOR[.PATCH])".
    [[nodiscard]] static Expected<KernelVersion, std::string> parse(std::string_view text);

    // "6.1" for patch 0, else "5.15.63".
    std::string str() const;
    // Same stable tree: same MAJOR.MINOR.
    bool same_tree(const KernelVersion& other) const { return major == other.major && minor == other.minor; }

    auto operator<=>(const KernelVersion&) const = default;
};

} // namespace viommu::guest::profiles
