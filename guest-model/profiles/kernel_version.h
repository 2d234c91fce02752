// A kernel release number: "6.1", "5.15.63", "4.19.300" (a leading "v" is accepted). Mainline releases
// are MAJOR.MINOR (patch 0); stable point releases add the third number.
#pragma once

#include <compare>
#include <optional>
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
    // The MAJOR.MINOR[.PATCH] a release string starts with and what follows it: "6.1.0-18-amd64" is 6.1.0
    // and "-18-amd64" (`uname -r`), "6.12.0-rc3" is 6.12.0 and "-rc3" (a .config header). Nullopt when it
    // does not start with a version; the rest is empty for a bare version.
    struct Prefixed;
    [[nodiscard]] static std::optional<Prefixed> parse_prefix(std::string_view release);

    // "6.1" for patch 0, else "5.15.63".
    std::string str() const;
    // Same stable tree: same MAJOR.MINOR.
    bool same_tree(const KernelVersion& other) const { return major == other.major && minor == other.minor; }

    auto operator<=>(const KernelVersion&) const = default;
};

struct KernelVersion::Prefixed {
    KernelVersion version;
    std::string_view rest;
};

} // namespace viommu::guest::profiles
