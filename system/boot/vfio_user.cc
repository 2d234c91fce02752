// The guest's user assigning devices to VFIO, as `driverctl set-override BDF vfio-pci` and a VFIO
// program do: bind vfio-pci (loading vfio.ko the first time), then open the group, set up the
// container or iommufd, map a buffer and let the device DMA into it. The gate
// (guest-model/vfio/gate.h) decides each step.
#include <fmt/format.h>

#include "guest-model/kernel/errno.h"
#include "system/boot/boot.h"

namespace viommu::system::boot {

using guest::vfio::Rule;
using guest::vfio::Verdict;

void Boot::vfio_user(std::vector<DeviceReport>& devices)
{
    std::size_t i = 0;
    for (Function& f : board_.functions()) {
        if (f.desc->vfio)
            assign_to_vfio(f, devices[i]);
        ++i;
    }
}

void Boot::assign_to_vfio(Function& f, DeviceReport& report)
{
    if (!kconfig_.vfio) {
        Verdict v;
        v.rule = Rule::kBuilt;
        v.error = guest::kernel::kENODEV;
        v.reason = fmt::format("{} does not build VFIO (CONFIG_VFIO)", profile_.name());
        report.vfio = v;
        return;
    }
    if (!vfio_pci_registered_) {
        gate_.load_module();
        register_driver(gate_.vfio_pci_driver(*pci_bus_, [this](const guest::driver_core::Device& d) { return function_of(d)->pci; }));
        vfio_pci_registered_ = true;
    }
    // What `driverctl set-override` does: unbind, driver_override=vfio-pci, bind.
    if (f.dev->bound())
        core_.device_release_driver(*f.dev);
    f.driver_override = "vfio-pci";
    (void)core_.device_attach(*f.dev);
    if (!gate_.bind_verdict(*f.dev)) {
        // vfio-pci's probe never ran: dma_configure() deferred it (an IOMMU that never came up).
        Verdict v;
        v.rule = Rule::kProbeDeferred;
        v.error = guest::kernel::kEPROBE_DEFER;
        v.reason = fmt::format("vfio-pci's probe is deferred: {}", f.dev->deferred_probe_reason().value_or(
                                                                        "waiting for the device's IOMMU"));
        report.vfio = v;
        return;
    }
    Verdict v = *gate_.bind_verdict(*f.dev);
    if (v.admitted) {
        v = gate_.use(*f.dev, [this, &f, &report](uint64_t iova, uint64_t phys, uint64_t size) {
            return board_.device_dma(f, iova, phys, size, 0x5a, report.dma);
        });
    } else if (v.rule == Rule::kNeedsIommuGroup) {
        v.reason += ": " + no_group_reason(f);
        const std::vector<std::string> remedies = no_group_remedies(f);
        v.remedies.insert(v.remedies.end(), remedies.begin(), remedies.end());
    }
    report.vfio = v;
}

} // namespace viommu::system::boot
