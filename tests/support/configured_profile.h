// Kernel profiles a test derives from a built-in one (or a bare version) by setting CONFIG_* values, as a
// user's profile file would (docs/kernel-profiles.md).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "guest-model/profiles/profile.h"

namespace viommu::test {

// A user profile: a built-in one (base) or a bare version, with the given CONFIG_* values as JSON members.
inline guest::profiles::Profile configured(const std::string& from, const std::string& config)
{
    using guest::profiles::Profile;
    const std::vector<std::string> builtin = Profile::builtin_names();
    const char* key = std::find(builtin.begin(), builtin.end(), from) != builtin.end() ? "base" : "version";
    auto p = Profile::from_json(fmt::format(R"({{"name": "{}+config", "{}": "{}", "config": {{{}}}}})", from, key, from,
                                            config),
                                "test");
    INFO((p ? std::string() : p.error()));
    REQUIRE(p);
    return *p;
}

// iommufd built, with the device cdev: what a distribution that enables iommufd has.
inline guest::profiles::Profile with_iommufd(const std::string& base)
{
    return configured(base, R"("CONFIG_IOMMUFD": "m", "CONFIG_VFIO_DEVICE_CDEV": "y")");
}

} // namespace viommu::test
