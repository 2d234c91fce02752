// Which QEMU release a binary is, from its --version line ("QEMU emulator version 7.2.22 (Debian
// 1:7.2+dfsg-7+deb12u18)"): the peer's device behaviour is a release's, so a comparison needs to know it.
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"

namespace viommu::system::qemu {

struct QemuVersion {
    unsigned major = 0, minor = 0, micro = 0;
    std::string line; // the whole first line, for messages
};

// The version in a --version output; why not when it has none.
[[nodiscard]] Expected<QemuVersion, std::string> parse_qemu_version(std::string_view output);
// Runs `binary --version` (a path, or a name looked up on PATH).
[[nodiscard]] Expected<QemuVersion, std::string> qemu_version(const std::string& binary);

} // namespace viommu::system::qemu
