#include "system/truth/elf_arch.h"

#include <cstdint>

namespace viommu::system::truth {

std::optional<guest::profiles::Arch> elf_arch(std::string_view file)
{
    // e_ident: "\x7f" "ELF", EI_CLASS, EI_DATA (1: little-endian), ...; e_machine is the half-word at 18.
    constexpr size_t kMachineOffset = 18;
    constexpr unsigned kElfDataLittle = 1;
    constexpr uint16_t kEmX86_64 = 62;
    constexpr uint16_t kEmAarch64 = 183;
    if (file.size() < kMachineOffset + 2 || file.substr(0, 4) != "\x7f" "ELF" ||
        static_cast<unsigned char>(file[5]) != kElfDataLittle)
        return std::nullopt;
    const uint16_t machine = static_cast<uint16_t>(static_cast<unsigned char>(file[kMachineOffset]) |
                                                   static_cast<unsigned char>(file[kMachineOffset + 1]) << 8);
    if (machine == kEmX86_64)
        return guest::profiles::Arch::kX86_64;
    if (machine == kEmAarch64)
        return guest::profiles::Arch::kAarch64;
    return std::nullopt;
}

} // namespace viommu::system::truth
