// Builds GuestSpecs for tests, the way QEMU command lines read: a q35 machine, then functions by
// address, bridges with their children.
#pragma once

#include <string>

#include "system/boot/guest_spec.h"

namespace viommu::test {

using system::boot::FunctionDesc;
using system::boot::GuestSpec;
using system::boot::Role;
namespace pci = guest::pci;

class SpecBuilder {
public:
    // q35 x86_64 with its host bridge at 00:00.0 and, when iommu_slot >= 0, a virtio-iommu-pci there.
    explicit SpecBuilder(int iommu_slot = 3, system::boot::Arch arch = system::boot::Arch::kX86_64)
    {
        spec_.name = "test";
        spec_.arch = arch;
        spec_.msi = arch == system::boot::Arch::kX86_64 ? system::boot::MsiController::kX86Apic
                                                        : system::boot::MsiController::kGicV3Its;
        // QEMU's virt machine booted straight into the kernel: the device tree.
        spec_.tables = arch == system::boot::Arch::kX86_64 ? system::boot::FirmwareTables::kAcpi
                                                           : system::boot::FirmwareTables::kDeviceTree;
        add("host-bridge", pci::Kind::kHostBridge, Role::kHostBridge, 0);
        if (iommu_slot >= 0) {
            spec_.iommu.present = true;
            spec_.iommu.function = add("virtio-iommu-pci", pci::Kind::kEndpoint, Role::kVirtioIommu, iommu_slot);
        }
    }

    // Adds a function and returns its index (the parent of what goes below it, for a bridge).
    int add(std::string label, pci::Kind kind, Role role, uint8_t slot, int parent = -1, uint8_t function = 0,
            std::string guest_driver = "", bool iommu_platform = true)
    {
        FunctionDesc d;
        d.pci.label = std::move(label);
        d.pci.kind = kind;
        d.pci.slot = slot;
        d.pci.function = function;
        d.pci.acs = kind == pci::Kind::kRootPort; // QEMU's root ports have ACS (>= 4.0)
        d.parent = parent;
        d.role = role;
        d.iommu_platform = iommu_platform;
        d.guest_driver = std::move(guest_driver);
        d.source = d.pci.label;
        spec_.functions.push_back(std::move(d));
        return static_cast<int>(spec_.functions.size() - 1);
    }
    int nic(uint8_t slot, int parent = -1, std::string driver = "e1000", pci::Kind kind = pci::Kind::kEndpoint)
    {
        return add(driver, kind, Role::kEmulated, slot, parent, 0, driver);
    }
    // A host function assigned to the guest, whose user binds vfio-pci to it.
    int hostdev(uint8_t slot, int parent = -1, pci::Kind kind = pci::Kind::kEndpoint, std::string driver = "e1000e")
    {
        const int i = add("hostdev", kind, Role::kHostdev, slot, parent, 0, std::move(driver));
        spec_.functions[static_cast<std::size_t>(i)].vfio = true;
        return i;
    }
    FunctionDesc& at(int i) { return spec_.functions[static_cast<std::size_t>(i)]; }
    GuestSpec& spec() { return spec_; }

private:
    GuestSpec spec_;
};

} // namespace viommu::test
