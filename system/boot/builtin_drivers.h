// Which of the guest's PCI endpoint drivers its kernel builds in rather than as modules, and in what
// order the built-in ones register. A built-in driver registers at device_initcall, in the kernel's
// link order (drivers/Makefile: ... iommu/, ..., mfd/, ..., ata/, ..., net/, ..., i2c/), before
// late_initcall turns deferred probing on and before udev loads any module; so it binds, and its
// devices get their IOMMU groups (pci_dma_configure()), before the devices whose drivers are modules.
// Group numbers (iommu_group_alloc(): the lowest free ID) follow that order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "guest-model/profiles/profile.h"

namespace viommu::system::boot {

// How the profile builds a PCI endpoint driver: in (CONFIG_...=y), as a module (m), or not at all (n:
// its devices stay without a driver). A driver the list below does not name, or whose symbol the
// profile does not set, is a module (as distributions build them).
enum class DriverBuild { kBuiltin, kModule, kAbsent };
DriverBuild pci_driver_build(const guest::profiles::Profile& profile, std::string_view driver);

// The drivers of the list below that the profile builds in, in link order.
std::vector<std::string> builtin_pci_drivers(const guest::profiles::Profile& profile);

} // namespace viommu::system::boot
