// The boot kept alive (live_guest.h): the report rebuilt on demand from what each function's boot or
// hot-plug found, and faults the host makes the device report.
#include "system/boot/boot.h"

namespace viommu::system::boot {

void Boot::boot()
{
    firmware_loads_kernel();
    boot_kernel();
    std::vector<DeviceReport> devices = device_reports();
    vfio_user(devices);
    std::size_t i = 0;
    for (const Function& f : board_.functions())
        reports_[&f] = std::move(devices[i++]);
}

GuestReport Boot::report()
{
    std::vector<DeviceReport> devices;
    for (const Function& f : board_.functions())
        devices.push_back(reports_.at(&f));
    return build_report(std::move(devices));
}

std::string Boot::inject_fault(const hw::virtio_iommu::FaultRecord& fault)
{
    hw::virtio_iommu::VirtioIommu* device = board_.iommu();
    if (!device)
        return {};
    const std::size_t logged = log_.dmesg().size();
    device->inject_fault(fault);
    // The event queue's interrupt: viommu_event_handler() takes the report (viommu_fault_handler()).
    machine_.run();
    return log_.dmesg().substr(logged);
}

} // namespace viommu::system::boot
