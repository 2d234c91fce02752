// The guest's PCI bus type (drivers/pci/pci-driver.c: pci_bus_match(), pci_dma_configure(),
// pci_device_probe(), pci_device_remove()) and the enumeration that adds its devices
// (drivers/pci/bus.c: pci_bus_add_devices()).
#include <algorithm>
#include <map>

#include "guest-model/kernel/errno.h"
#include "system/boot/boot.h"
#include "system/boot/virtio_roles.h"

namespace viommu::system::boot {

using guest::driver_core::Device;
using guest::driver_core::Driver;
using guest::driver_core::DriverSpec;
namespace pci = guest::pci;

Function* Boot::function_of(const Device& dev) const
{
    return static_cast<Function*>(dev.platform_data());
}

bool Boot::uses_default_domain(const Device& dev) const
{
    // From v5.19 (1ea2a07a532b) a bound driver uses its group's default domain, unless it manages its
    // DMA itself (driver_managed_dma).
    return behaviour_.dma_ownership && !driver_managed_dma_.count(dev.driver()->name());
}

void Boot::register_pci_bus()
{
    guest::driver_core::BusType bus;
    bus.name = "pci";
    // pci_bus_match(): driver_override alone decides when set; else the driver's ID table.
    bus.match = [this](Device& dev, const Driver& drv) {
        const Function& f = *function_of(dev);
        if (!f.driver_override.empty())
            return f.driver_override == drv.name() ? 1 : 0;
        return f.id_table.count(drv.name()) ? 1 : 0;
    };
    // pci_dma_configure(): the firmware's IOMMU configuration, then (v5.19) the default domain's use.
    bus.dma_configure = [this](Device& dev) {
        Function& f = *function_of(dev);
        if (int err = iommu_.dma_configure(dev); err) {
            if (err == -guest::kernel::kEPROBE_DEFER)
                ++f.deferrals;
            return err;
        }
        if (uses_default_domain(dev))
            return iommu_.device_use_default_domain(dev);
        return 0;
    };
    // pci_device_probe()/pci_device_remove(), with the bus's dma_cleanup (25f3bcfc54bc) on failure.
    bus.probe = [this](Device& dev) {
        const int ret = dev.driver()->call_probe(dev);
        if (ret && uses_default_domain(dev))
            iommu_.device_unuse_default_domain(dev);
        return ret;
    };
    bus.remove = [this](Device& dev) {
        dev.driver()->call_remove(dev);
        if (uses_default_domain(dev))
            iommu_.device_unuse_default_domain(dev);
    };
    pci_bus_ = *core_.bus_register(std::move(bus));
}

DriverSpec Boot::pci_driver(std::string name, std::function<int(Function&)> probe)
{
    DriverSpec d;
    d.name = std::move(name);
    d.bus = pci_bus_;
    d.probe = [this, probe = std::move(probe)](Device& dev) { return probe(*function_of(dev)); };
    return d;
}

void Boot::enumeration_order(pci::Function* bus_owner, std::vector<Function*>& out)
{
    // pci_bus_add_devices(): every device of the bus, then the buses below its bridges.
    std::vector<Function*> on_bus;
    for (Function& f : board_.functions())
        if (f.pci->parent == bus_owner)
            on_bus.push_back(&f);
    std::sort(on_bus.begin(), on_bus.end(),
              [](const Function* a, const Function* b) { return a->pci->devfn() < b->pci->devfn(); });
    out.insert(out.end(), on_bus.begin(), on_bus.end());
    for (Function* f : on_bus)
        if (pci::is_bridge(f->pci->kind))
            enumeration_order(f->pci, out);
}

void Boot::initialize_pci_device(Function& f, Device* parent)
{
    const Role role = f.desc->role;
    if (role == Role::kHostBridge && spec_.arch == Arch::kX86_64)
        f.id_table.insert("agpgart-intel");
    if (pci::is_bridge(f.pci->kind))
        f.id_table.insert("pcieport");
    if (virtio_role(role))
        f.id_table.insert("virtio-pci");
    // vfio-pci has no IDs of its own: it binds only through driver_override.
    if (!f.desc->guest_driver.empty() && f.desc->guest_driver != "vfio-pci")
        f.id_table.insert(f.desc->guest_driver);
    guest::driver_core::DeviceSpec ds;
    ds.name = f.pci->bdf();
    ds.bus = pci_bus_;
    ds.parent = parent;
    ds.platform_data = &f;
    f.dev = &core_.device_initialize(std::move(ds));
    iommu_.set_pci_function(*f.dev, *f.pci);
}

void Boot::enumerate()
{
    std::vector<Function*>& order = enumeration_;
    enumeration_order(nullptr, order);
    std::map<const pci::Function*, Function*> by_pci;
    for (Function& f : board_.functions())
        by_pci[f.pci] = &f;
    for (Function* f : order)
        initialize_pci_device(*f, f->pci->parent ? by_pci.at(f->pci->parent)->dev : nullptr);
    describe_firmware();
    for (Function* f : order)
        (void)core_.device_add(*f->dev);
}

} // namespace viommu::system::boot
