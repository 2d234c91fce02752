// A guest's description (boot::GuestSpec, from its libvirt domain XML) as a QEMU command line that boots
// the same machine for real: the project's own mapping, since libvirt's (virsh domxml-to-native
// qemu-argv) needs a running libvirtd with its QEMU driver (docs/ground-truth.md, "From XML to QEMU").
// A VFIO hostdev cannot be passed through on a build machine: an emulated device that no Linux driver
// claims (QEMU's edu, 1234:11e8) stands in at the hostdev's guest address, and the guest's user gives it
// to vfio-pci as it would the host's function.
#pragma once

#include <string>
#include <vector>

#include "base/expected.h"
#include "system/boot/guest_spec.h"

namespace viommu::system::truth {

// QEMU's edu device: PCI identity 1234:11e8 (hw/misc/edu.c), claimed by no Linux driver.
inline constexpr const char* kStandInDevice = "edu";
inline constexpr const char* kStandInId = "1234:11e8";

struct QemuPlan {
    // The machine and its devices, without the binary, the kernel, the console or the trace, which the
    // boot adds (real_boot.h). "SCRATCH_IMAGE" stands for the scratch disk image's path.
    std::vector<std::string> args;
    // The guest's console on the serial port the machine has: ttyS0 (q35's 16550), ttyAMA0 (virt's PL011).
    std::string console;
    // What the guest kernel gets besides console= and panic=-1: the options of <os><cmdline> the model
    // honours (boot::KernelCmdline), each written as the kernel reads it, and edd=off when boot-bypass
    // is off (qemu_command.cc says why).
    std::vector<std::string> kernel_args;
    // The PCI identities ("1234:11e8") the guest's VFIO user takes to vfio-pci.
    std::vector<std::string> vfio_ids;
    // One sentence per stand-in device: what it replaces and where.
    std::vector<std::string> notes;
};

inline constexpr const char* kScratchImage = "SCRATCH_IMAGE";

// The plan, or why the guest cannot be booted for real (an element the mapping does not cover, a
// property QEMU 7.2 lacks): the front end reports that as bad input.
Expected<QemuPlan, std::string> qemu_plan(const boot::GuestSpec& spec);

} // namespace viommu::system::truth
