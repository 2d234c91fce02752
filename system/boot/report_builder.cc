// The report of a boot (report.h): per PCI function what sysfs would show (driver, iommu_group, its
// domain type and reserved_regions), the IDs Linux and QEMU use for it, its DMA and VFIO outcome; for
// the guest, the virtio-iommu's state and the kernel log.
#include <algorithm>

#include <fmt/format.h>

#include "guest-model/kernel/errno.h"
#include "system/boot/boot.h"

namespace viommu::system::boot {

namespace iommu = guest::iommu;
namespace pci = guest::pci;

DeviceReport Boot::report_for(Function& f)
{
    DeviceReport r;
    r.bdf = f.pci->bdf();
    if (f.pci->parent)
        r.parent = f.pci->parent->bdf();
    r.label = f.desc->source.empty() ? f.desc->pci.label : f.desc->source;
    r.role = role_name(f.desc->role);
    if (f.dev->bound()) {
        r.driver = f.dev->driver()->name();
        if (f.virtio && f.virtio->bound())
            r.driver += "/" + f.virtio->driver()->name();
    }
    if (const iommu::Group* g = iommu_.group_of(*f.dev)) {
        r.group = g->id();
        if (g->domain())
            r.domain = iommu::domain_type_name(g->domain()->type());
        // iommu_group_show_resv_regions(), "0x%016llx 0x%016llx %s" with iommu_group_resv_type_string[].
        for (const iommu::ResvRegion& rr : iommu_.device(*f.dev)->resv) {
            static constexpr const char* kType[] = {"direct", "direct-relaxable", "reserved", "msi", "msi"};
            r.reserved_regions.push_back(
                fmt::format("{:#018x} {:#018x} {}", rr.start, rr.last(), kType[static_cast<int>(rr.type)]));
        }
    }
    for (uint16_t id : pci::linux_dma_aliases(*f.pci))
        r.linux_ids.push_back(id);
    r.qemu_endpoint = pci::qemu_requester_id(*f.pci);
    const Function* iommu_fn = board_.iommu_function();
    r.behind_iommu = iommu_fn && &f != iommu_fn && kconfig_.firmware_describes;
    r.deferrals = f.deferrals;
    if (r.behind_iommu && !r.group && f.dev->bound() && !pci::is_bridge(f.pci->kind) &&
        f.desc->role != Role::kHostBridge)
        r.no_group_reason = no_group_reason(f);
    r.dma = f.dma;
    r.firmware_dma = f.firmware_dma;
    return r;
}

std::vector<DeviceReport> Boot::device_reports()
{
    std::vector<DeviceReport> devices;
    for (Function& f : board_.functions())
        devices.push_back(report_for(f));
    return devices;
}

GuestReport Boot::build_report(std::vector<DeviceReport> devices)
{
    std::vector<Function*> functions;
    for (Function& f : board_.functions())
        functions.push_back(&f);
    // The driver and group after VFIO had its way.
    for (std::size_t i = 0; i < functions.size(); ++i) {
        DeviceReport now = report_for(*functions[i]);
        devices[i].driver = now.driver;
        devices[i].group = now.group;
        devices[i].domain = now.domain;
        devices[i].reserved_regions = now.reserved_regions;
    }
    GuestReport report;
    report.guest = spec_.name;
    report.kernel = profile_.name();
    report.kernel_version = profile_.version().str();
    report.arch = spec_.arch;
    report.tables = spec_.tables;
    report.vfio_user = gate_.backend();
    std::vector<std::size_t> order(functions.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return functions[a]->pci->requester_id() < functions[b]->pci->requester_id();
    });
    for (std::size_t i : order)
        report.devices.push_back(std::move(devices[i]));

    IommuReport& ir = report.iommu;
    const Function* iommu_fn = board_.iommu_function();
    ir.present = iommu_fn != nullptr;
    ir.driver_built = kconfig_.why_no_iommu.empty();
    ir.why_not = ir.present ? kconfig_.why_no_iommu : "the machine has no virtio-iommu";
    if (iommu_fn) {
        ir.bdf = iommu_fn->pci->bdf();
        ir.device = iommu_fn->virtio ? iommu_fn->virtio->name() : "";
        ir.driver_ready = viommu_ && viommu_->ready();
        if (viommu_)
            ir.features = viommu_->negotiated();
        if (viommu_error_)
            ir.why_not = fmt::format("the virtio-iommu driver failed to probe ({})", guest::kernel::errno_symbol(viommu_error_));
        ir.device_profile = board_.iommu()->config().behaviour.profile;
        ir.boot_bypass = board_.iommu()->config().boot_bypass;
        ir.requests = board_.iommu()->stats().requests;
        ir.faults = board_.iommu()->stats().faults_reported;
    }
    report.warnings = warnings_;
    report.dmesg = log_.dmesg();
    return report;
}

} // namespace viommu::system::boot
