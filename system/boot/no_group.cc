// Why a device the firmware puts behind the virtio-iommu has no IOMMU group, in the order the causes
// are ruled out (no IOMMU, no driver for it, its driver failed, the 6.15 lookup regression, an alias
// QEMU and Linux disagree on, the arm64 deferred-probe timeout, no driver bound before 6.15), and what
// the user can change to get one.
#include <fmt/format.h>

#include "guest-model/kernel/errno.h"
#include "system/boot/boot.h"

namespace viommu::system::boot {

namespace pci = guest::pci;

std::string Boot::no_group_reason(const Function& f) const
{
    if (!board_.iommu_function())
        return "the machine has no virtio-iommu";
    if (!kconfig_.why_no_iommu.empty())
        return kconfig_.why_no_iommu;
    if (!viommu_)
        return "the virtio-iommu driver has not bound";
    if (viommu_error_)
        return fmt::format("the virtio-iommu driver failed to probe ({})", guest::kernel::errno_symbol(viommu_error_));
    if (behaviour_.probe_at_register && !behaviour_.instance_lookup_robust)
        return "this kernel does not find the virtio-iommu instance of its endpoints (fixed by 72b6f7cd89ce in 6.17 "
               "and 6.16.4)";
    const auto ids = pci::linux_dma_aliases(*f.pci);
    const uint32_t qemu = pci::qemu_requester_id(*f.pci);
    if (!ids.empty() && ids.front() != qemu) {
        const pci::Function& owner = pci::qemu_alias_owner(*f.pci);
        return fmt::format("behind {} its DMA carries the alias {:#06x}, the only ID QEMU's virtio-iommu knows it by, "
                           "but Linux PROBEs its own requester ID {:#06x}: the device answers NOENT and Linux goes on "
                           "without an IOMMU",
                           owner.bdf(), qemu, ids.front());
    }
    if (spec_.tables == FirmwareTables::kDeviceTree && f.deferrals && f.dev->bound())
        return fmt::format("it stopped waiting for the IOMMU when the deferred-probe timeout ran out ({} s; "
                           "of_iommu_configure() then goes on without it) and bound before virtio_iommu loaded",
                           core_.deferred_probe_timeout());
    if (!f.dev->bound() && !behaviour_.probe_at_register)
        return "no driver has bound it, and groups are made when a driver binds (before 6.15)";
    return "the IOMMU did not take it";
}

std::vector<std::string> Boot::no_group_remedies(const Function& f) const
{
    std::vector<std::string> remedies;
    if (!kconfig_.why_no_iommu.empty() && spec_.arch == Arch::kX86_64)
        remedies.push_back("a kernel that drives the virtio-iommu (x86: 5.14 or later with CONFIG_VIRTIO_IOMMU "
                           "and CONFIG_ACPI_VIOT; arm64: 5.3 or later)");
    else if (!kconfig_.why_no_iommu.empty() && spec_.tables == FirmwareTables::kAcpi)
        remedies.push_back("a kernel that reads the ACPI VIOT table (5.14 or later with CONFIG_VIRTIO_IOMMU and "
                           "CONFIG_ACPI_VIOT), or boot without UEFI so that the kernel reads the device tree (5.3 or "
                           "later)");
    else if (!kconfig_.why_no_iommu.empty())
        remedies.push_back("a kernel that drives the virtio-iommu (arm64: 5.3 or later with CONFIG_VIRTIO_IOMMU)");
    else if (pci::qemu_requester_id(*f.pci) != f.pci->requester_id())
        remedies.push_back("plug the device into a PCIe root port, not behind a PCIe-to-PCI or PCI bridge");
    remedies.push_back("no-IOMMU mode: CONFIG_VFIO_NOIOMMU=y and vfio.enable_unsafe_noiommu_mode=1 (no DMA "
                       "isolation at all)");
    return remedies;
}

} // namespace viommu::system::boot
