// What `uname -r` prints, as a kernel profile: a user has "6.1.0-18-amd64" at hand, not a profile name.
// A distribution kernel that has a built-in profile gets it; any other release is read as its version,
// as --kernel reads a plain version.
//
// The release strings, by distribution:
//   Debian:  VERSION-ABI-FLAVOUR ("6.1.0-18-amd64", "6.1.0-18-cloud-arm64"; bookworm's 6.1 is always
//            6.1.0-ABI), bookworm-backports "6.12.12+bpo-amd64", bookworm-security's 6.12
//            "6.12.117+deb12-amd64"; flavours end in amd64 or arm64 (arm64-16k), with cloud- or rt-;
//            bullseye-backports of bookworm's 6.1: "6.1.0-0.deb11.17-amd64".
//   Ubuntu:  VERSION-ABI-FLAVOUR ("6.8.0-45-generic"; "-generic-64k" is arm64 only), no architecture else.
//   Fedora:  VERSION-RELEASE.fcN.ARCH ("6.11.4-301.fc41.x86_64", ".aarch64").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "guest-model/profiles/arch.h"
#include "guest-model/profiles/kernel_version.h"

namespace viommu::guest::profiles {

struct UnameMatch {
    std::string profile; // a built-in profile's name, or a plain version ("6.8") for the facts table alone
    std::string why;     // one sentence: which distribution kernel it is, or why it is read as a version
};

// Nullopt for text that is not a release string: no leading version, nothing after it (a plain version
// is no uname string), or characters `uname -r` never prints.
[[nodiscard]] std::optional<UnameMatch> match_uname_release(std::string_view release);

} // namespace viommu::guest::profiles
