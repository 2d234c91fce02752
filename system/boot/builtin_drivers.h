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

// The drivers of the list below that the profile builds in (CONFIG_...=y), in link order. A driver the
// list does not name, or whose symbol the profile does not set, is a module (as distributions build
// them).
std::vector<std::string> builtin_pci_drivers(const guest::profiles::Profile& profile);

// Whether the profile builds the named driver in.
bool pci_driver_builtin(const guest::profiles::Profile& profile, std::string_view driver);

} // namespace viommu::system::boot
