// A kernel's own configuration, as Kconfig writes it (scripts/kconfig/confdata.c, conf_write()): the
// .config of a build, /boot/config-RELEASE, /proc/config.gz inflated. It starts with
//   #
//   # Automatically generated file; DO NOT EDIT.
//   # Linux/x86 6.1.0 Kernel Configuration
//   #
// then one line per visible symbol: "CONFIG_NAME=VALUE" (y, m, a number or a "quoted string") or
// "# CONFIG_NAME is not set". A symbol absent altogether is not set either: Kconfig leaves out a
// symbol whose dependencies are not met, and one the release does not have.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "guest-model/profiles/arch.h"
#include "guest-model/profiles/kernel_version.h"

namespace viommu::guest::profiles {

struct Kconfig {
    KernelVersion version; // the header's ("6.1.0", "6.12.0-rc3" read as 6.12.0)
    Arch arch = Arch::kX86_64; // the header's ARCH: x86 (with CONFIG_X86_64=y) or arm64
    // "y", "m", "n" (for "is not set"), or the value, a string without its quotes.
    std::map<std::string, std::string, std::less<>> symbols;
};

// Whether text reads as a Kconfig file rather than JSON: its first line that is not blank is a comment
// or a CONFIG_ assignment.
bool looks_like_kconfig(std::string_view text);

// source names the file in errors ("/boot/config-6.1.0-18-amd64: line 7: ...").
[[nodiscard]] Expected<Kconfig, std::string> parse_kconfig(std::string_view text, std::string_view source);

} // namespace viommu::guest::profiles
