// Which architecture an executable is built for, from its ELF header: the initramfs's busybox and
// truth-probe must run on the guest's CPU, and a host binary in an arm64 guest would only show as a
// kernel panic ("Failed to execute /init") minutes into a TCG boot.
#pragma once

#include <optional>
#include <string_view>

#include "guest-model/profiles/arch.h"

namespace viommu::system::truth {

// e_machine of a little-endian ELF file (EM_X86_64 62, EM_AARCH64 183; the System V gABI, elf.h);
// nullopt for anything else.
std::optional<guest::profiles::Arch> elf_arch(std::string_view file);

} // namespace viommu::system::truth
