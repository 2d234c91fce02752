// The guest's initramfs: busybox (Debian's busybox-static), the kernel modules the mapped machine needs
// with their dependencies, truth-probe, and an init that loads the modules in the order viommu-boot's
// model loads them (udev's coldplug: the virtio-iommu first, then the virtio drivers, then the PCI
// functions' drivers), hands the VFIO stand-ins to truth-probe and powers off.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/expected.h"
#include "system/truth/kernel_package.h"

namespace viommu::system::truth {

struct InitramfsInputs {
    guest::profiles::Arch arch = guest::profiles::Arch::kX86_64; // the guest's: busybox and truth-probe must be its
    std::filesystem::path busybox = "/bin/busybox";      // the guest's (kernel_package.h guest_busybox())
    std::filesystem::path host_busybox = "/bin/busybox"; // runs depmod on the host
    std::filesystem::path probe;        // truth-probe, built static for the guest's architecture
    std::vector<std::string> vfio_ids;  // "1234:11e8": the functions the VFIO user takes
};

struct Initramfs {
    std::filesystem::path image;           // the gzip-compressed cpio archive
    std::vector<std::string> modules;      // the module files it holds, relative to lib/modules/RELEASE
    std::vector<std::string> not_modules;  // wanted drivers that are built in or absent from the package
};

// The modules every mapped machine may need (qemu_command.h maps nothing else): virtio-pci (a module in
// Debian 12's 6.1, built in from its 6.12), the virtio-iommu, the
// virtio-net and virtio-blk drivers, q35's built-in functions' (lpc_ich, ahci, i2c-i801), e1000e, and
// VFIO (vfio, vfio-pci, vfio_iommu_type1). Names as modules.dep spells them, '-' and '_' alike. An arm64
// kernel lacks lpc_ich and i2c-i801 (not x86 drivers) and virt has no AHCI function: what a package lacks
// is listed as such, and a module no device asks for is never loaded.
const std::vector<std::string>& wanted_modules();

// The init script for the VFIO stand-ins' identities.
std::string init_script(const std::vector<std::string>& vfio_ids);

// Builds the image in work (emptied first).
Expected<Initramfs, std::string> build_initramfs(const KernelPackage& kernel, const InitramfsInputs& inputs,
                                                 const std::filesystem::path& work);

} // namespace viommu::system::truth
