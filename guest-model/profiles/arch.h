// The CPU architecture a kernel is built for, and a guest runs: a kernel profile says which (x86_64 or
// aarch64), and a guest boots only a kernel of its own architecture. The two differ where the model
// looks: which firmware describes the virtio-iommu (ACPI VIOT, or a device tree's iommu-map), where MSIs
// go (x86's 0xfee00000 window, or an arm64 doorbell behind IOMMU_RESV_SW_MSI), and since when
// virtio-iommu builds at all (arm64 from edcd69ab9a32, v5.3; x86 from 8ce4904bfd22, v5.14).
#pragma once

#include <optional>
#include <string_view>

namespace viommu::guest::profiles {

enum class Arch { kX86_64, kAarch64 };

// "x86_64", "aarch64": the names libvirt's <os><type arch=...> and `uname -m` use.
std::string_view arch_name(Arch arch);
std::optional<Arch> parse_arch(std::string_view name);

} // namespace viommu::guest::profiles
