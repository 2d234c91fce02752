// What a command line's -k/--kernel accepts, in this order: a built-in profile's name ("debian-12"), a
// kernel version ("5.19.8"), a file (a kernel's own configuration, plain or gzip-compressed like
// /proc/config.gz, or a profile JSON document), or what `uname -r` prints ("6.1.0-18-amd64").
#pragma once

#include <string>

#include "base/expected.h"
#include "guest-model/profiles/profile.h"

namespace viommu::guest::profiles {

struct KernelChoice {
    Profile profile;
    // For a kernel configuration or a uname release: which profile it became and why, one sentence for
    // the user; empty for a name, a version or a profile document, which say so themselves.
    std::string how;
};

[[nodiscard]] Expected<KernelChoice, std::string> resolve_kernel_argument(const std::string& argument);

} // namespace viommu::guest::profiles
