// Linux's PCIe native hot-plug on the guest side of QEMU's device_add and device_del
// (drivers/pci/hotplug/pciehp_ctrl.c, pciehp_pci.c; drivers/pci/remove.c).
//
// Plug: the port's presence-detect interrupt -> pciehp_enable_slot() -> pciehp_configure_device():
// pci_scan_slot() finds the function, pci_bus_add_devices() adds it (device_add(), then a driver
// binds). The IOMMU probes it as at boot for the kernel's release: from 6.15 iommu_probe_device()
// runs from device_add()'s bus notifier with the firmware parsing of bcb81ac6ae3c, so the function
// has its group before any driver; before, the group is made when a driver binds (dma_configure()).
//
// Unplug: the attention button -> pciehp_disable_slot() -> pciehp_unconfigure_device() ->
// pci_stop_and_remove_bus_device(): drivers unbind (virtio-pci first unregisters its virtio device),
// then device_del() -> the IOMMU's BUS_NOTIFY_REMOVED_DEVICE -> iommu_release_device(): the IOMMU
// driver's release_device(), which sends the device a DETACH for each endpoint ID since 809d0810e352
// ("iommu/virtio: Detach domain on endpoint release", v6.5, 6.1.39; viommu.detach_on_release), and the
// device leaves its group.
#include "guest-model/kernel/clock.h"
#include "system/boot/boot.h"

namespace viommu::system::boot {

namespace {

// pciehp_handle_button_press_request(): the slot goes off 5 s after the attention button, unless it
// is pressed again (pciehp_queue_pushbutton_work()).
constexpr uint64_t kButtonDelayNs = 5 * guest::kernel::kNsecPerSec;

} // namespace

Expected<Function*, std::string> Boot::hot_add(const FunctionDesc& desc, Function& port)
{
    const std::size_t noted = board_.host_iommu_notes().size();
    auto added = board_.hot_add(desc, port);
    if (!added)
        return added;
    // What the device noted of the host IOMMU (a mask it only checks, ranges its release does not take).
    warnings_.insert(warnings_.end(), board_.host_iommu_notes().begin() + static_cast<std::ptrdiff_t>(noted),
                     board_.host_iommu_notes().end());
    Function& f = **added;
    initialize_pci_device(f, port.dev);
    enumeration_.push_back(&f);
    if (const Function* iommu_fn = board_.iommu_function(); iommu_fn && kconfig_.firmware_describes)
        link_to_iommu(f, iommu_fn->pci->bdf());
    if (behaviour_.probe_at_register && viommu_ && viommu_->ready())
        (void)iommu_.dma_configure(*f.dev);
    (void)core_.device_add(*f.dev);
    core_.run_pending_work();
    traffic(f);
    DeviceReport report = report_for(f);
    if (f.desc->vfio)
        assign_to_vfio(f, report);
    reports_[&f] = std::move(report);
    return &f;
}

void Boot::hot_remove(Function& f)
{
    core_.advance_time(kButtonDelayNs);
    if (f.virtio)
        core_.device_unregister(*f.virtio);
    core_.device_unregister(*f.dev);
    iommu_.remove_device(*f.dev);
    iommu_.forget_device(*f.dev);
    machine_.run();
    reports_.erase(&f);
    std::erase(enumeration_, &f);
    board_.hot_remove(f);
}

} // namespace viommu::system::boot
