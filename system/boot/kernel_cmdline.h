// The guest kernel command line (libvirt's <os><cmdline>), reduced to the options the model honours.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "system/boot/guest_spec.h"

namespace viommu::system::boot {

// Splits text the way the kernel's next_arg() does (spaces separate, double quotes group, "--" ends the
// kernel's part) and reads the options KernelCmdline holds. Names match as parameq() matches them:
// '-' and '_' are the same. Everything else, and a value the kernel would refuse, adds one sentence
// to warnings.
KernelCmdline parse_kernel_cmdline(std::string_view text, Arch arch, std::vector<std::string>& warnings);

} // namespace viommu::system::boot
