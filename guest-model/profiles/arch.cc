#include "guest-model/profiles/arch.h"

namespace viommu::guest::profiles {

std::string_view arch_name(Arch arch)
{
    return arch == Arch::kX86_64 ? "x86_64" : "aarch64";
}

std::optional<Arch> parse_arch(std::string_view name)
{
    if (name == "x86_64")
        return Arch::kX86_64;
    if (name == "aarch64")
        return Arch::kAarch64;
    return std::nullopt;
}

} // namespace viommu::guest::profiles
