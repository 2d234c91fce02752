// The boot of one guest (boot_guest(), guest.h), as one object whose parts read like their kernel
// counterparts, one file each:
//   board.cc          the hardware (Board)
//   initcalls.cc      the kernel's initcall script: subsys, device and late initcalls, coldplug, traffic
//   pci_bus.cc        the PCI bus type and enumeration (drivers/pci/pci-driver.c, bus.c)
//   firmware.cc       what ACPI VIOT or the device tree's iommu-map tell the IOMMU core
//   virtio_bus.cc     the virtio bus, virtio-pci's probe and the virtio-iommu driver's
//   vfio_user.cc      the VFIO user's steps through the gate
//   no_group.cc       why a device behind the IOMMU has no group, and what to change
//   report_builder.cc the report
//   workload_run.cc   an I/O pattern through the endpoints, its events counted (--workload)
// Internal to system/boot.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "guest-model/driver-core/driver_core.h"
#include "guest-model/iommu/core.h"
#include "guest-model/iommu/dma_api.h"
#include "guest-model/kernel/printk.h"
#include "guest-model/vfio/gate.h"
#include "guest-model/virtio-iommu/driver.h"
#include "guest-model/virtio-drivers/pci_modern_driver.h"
#include "system/boot/board.h"
#include "system/boot/boot_behaviour.h"
#include "system/boot/guest.h"
#include "system/boot/kernel_config.h"
#include "system/machine/machine.h"

namespace viommu::system::boot {

// A virtio device on the virtio bus (struct virtio_device).
struct VirtioDev {
    uint32_t id = 0;
    Function* parent = nullptr;
};

class Boot {
public:
    Boot(const GuestSpec& spec, const guest::profiles::Profile& profile, const BootOptions& options);
    // boot(), then report().
    GuestReport run();

    // live.cc: the guest kept alive (live_guest.h).
    void boot();
    // The report as things stand: boot-time findings, updated drivers and groups, hot-plugged functions.
    GuestReport report();
    // The device reports a fault on its event queue and the guest's driver takes it: what the guest
    // logged for it ("" nothing, rate-limited or no event buffer).
    std::string inject_fault(const hw::virtio_iommu::FaultRecord& fault);
    Board& board() { return board_; }
    // hotplug.cc: Linux's PCIe hot-plug (pciehp) on the guest side of device_add and device_del.
    Expected<Function*, std::string> hot_add(const FunctionDesc& desc, Function& port);
    void hot_remove(Function& f);

private:
    // initcalls.cc
    void boot_kernel();
    void register_driver(guest::driver_core::DriverSpec spec);
    void load_module(guest::driver_core::DriverSpec spec);
    void device_initcalls();
    void load_modules();
    void traffic(Function& f);
    // pci_bus.cc
    void register_pci_bus();
    bool uses_default_domain(const guest::driver_core::Device& dev) const;
    void enumeration_order(guest::pci::Function* bus_owner, std::vector<Function*>& out);
    void enumerate();
    // pci_device_add() up to device_add(): the ID tables that match it, the struct device, its PCI function.
    void initialize_pci_device(Function& f, guest::driver_core::Device* parent);
    guest::driver_core::DriverSpec pci_driver(std::string name, std::function<int(Function&)> probe);
    Function* function_of(const guest::driver_core::Device& dev) const;
    // firmware.cc
    void describe_firmware();
    // What VIOT or the iommu-map says of one function: its IDs behind the virtio-iommu.
    void link_to_iommu(Function& f, const std::string& fwnode);
    void firmware_loads_kernel();
    // virtio_bus.cc
    void register_virtio_bus();
    guest::driver_core::DriverSpec virtio_driver(std::string name, std::function<int(guest::driver_core::Device&)> probe);
    guest::driver_core::DriverSpec virtio_iommu_driver();
    int virtio_pci_probe(Function& f);
    int viommu_probe(guest::driver_core::Device& vdev);
    void iommu_registered();
    // vfio_user.cc
    void vfio_user(std::vector<DeviceReport>& devices);
    void assign_to_vfio(Function& f, DeviceReport& report);
    // no_group.cc
    std::string no_group_reason(const Function& f) const;
    std::vector<std::string> no_group_remedies(const Function& f) const;
    // report_builder.cc
    DeviceReport report_for(Function& f);
    std::vector<DeviceReport> device_reports();
    GuestReport build_report(std::vector<DeviceReport> devices);
    // workload_run.cc
    workload::Report run_workload(const workload::Request& request);
    std::string run_workload_io(Function& f, const workload::Recipe& recipe, unsigned io, workload::Events& counted);
    workload::Events workload_events() const;

    const GuestSpec& spec_;
    const guest::profiles::Profile& profile_;
    std::optional<workload::Request> workload_;
    KernelConfig kconfig_;
    BootBehaviour behaviour_;
    guest::kernel::VirtualClock clock_;
    guest::kernel::KernelLog log_;
    machine::Machine machine_;
    Board board_;
    guest::driver_core::DriverCore core_;
    // The IOMMU driver outlives the IOMMU core, whose groups hold its domains.
    std::unique_ptr<guest::virtio_drivers::VirtioTransport> viommu_transport_;
    std::unique_ptr<guest::virtio_iommu::ViommuDriver> viommu_;
    guest::iommu::IommuCore iommu_;
    guest::iommu::DmaApi dma_;
    guest::vfio::Gate gate_;
    guest::driver_core::Bus* pci_bus_ = nullptr;
    guest::driver_core::Bus* virtio_bus_ = nullptr;
    std::vector<Function*> enumeration_; // the order the PCI functions were added (the bus's list)
    std::vector<std::unique_ptr<VirtioDev>> virtio_devs_;
    unsigned virtio_index_ = 0;
    int viommu_error_ = 0;
    bool vfio_pci_registered_ = false;
    bool driver_x_noncoherent_ = true; // BootOptions::driver_x_noncoherent
    std::set<std::string> driver_managed_dma_;
    std::vector<std::string> warnings_;
    std::map<const Function*, DeviceReport> reports_; // what each function's boot (or hot-plug) found
};

} // namespace viommu::system::boot
