// The guest's virtio bus (drivers/virtio/virtio.c: virtio_dev_match()), virtio-pci's probe that puts
// a virtio device on it for each virtio function (virtio_pci_probe() -> register_virtio_device()), and
// the virtio-iommu driver's probe, which registers the IOMMU with the IOMMU core. Which device IDs
// exist and which driver matches each is the table of virtio_roles.h.
#include <fmt/format.h>

#include "guest-model/kernel/errno.h"
#include "system/boot/boot.h"
#include "system/boot/virtio_roles.h"

namespace viommu::system::boot {

using guest::driver_core::Device;
using guest::driver_core::DriverSpec;

void Boot::register_virtio_bus()
{
    guest::driver_core::BusType bus;
    bus.name = "virtio";
    // virtio_dev_match(): the driver's ID table against the device ID.
    bus.match = [](Device& dev, const guest::driver_core::Driver& drv) {
        const auto* v = static_cast<const VirtioDev*>(dev.platform_data());
        for (const VirtioRole& r : virtio_roles())
            if (!r.driver.empty() && drv.name() == r.driver && v->id == r.device_id)
                return 1;
        return 0;
    };
    virtio_bus_ = *core_.bus_register(std::move(bus));
}

DriverSpec Boot::virtio_driver(std::string name, std::function<int(Device&)> probe)
{
    DriverSpec d;
    d.name = std::move(name);
    d.bus = virtio_bus_;
    d.probe = std::move(probe);
    return d;
}

DriverSpec Boot::virtio_iommu_driver()
{
    return virtio_driver(std::string(virtio_role(Role::kVirtioIommu)->driver),
                         [this](Device& v) { return viommu_probe(v); });
}

int Boot::virtio_pci_probe(Function& f)
{
    // virtio_pci_probe() -> register_virtio_device(): "virtio%u" on the virtio bus, probed at once.
    auto vd = std::make_unique<VirtioDev>();
    vd->parent = &f;
    const VirtioRole* role = virtio_role(f.desc->role);
    vd->id = role ? role->device_id : 0;
    guest::driver_core::DeviceSpec ds;
    ds.name = fmt::format("virtio{}", virtio_index_++);
    ds.bus = virtio_bus_;
    ds.parent = f.dev;
    ds.platform_data = vd.get();
    virtio_devs_.push_back(std::move(vd));
    auto dev = core_.device_register(std::move(ds));
    if (!dev)
        return dev.error();
    f.virtio = *dev;
    return 0;
}

int Boot::viommu_probe(Device& vdev)
{
    if (!board_.iommu() || viommu_)
        return -guest::kernel::kENODEV;
    // The virtio-iommu is a PCI function: virtio_pci_probe() put it on the virtio bus.
    viommu_transport_ = std::make_unique<guest::virtio_drivers::VirtioPciModernDriver>(
        machine_.pci_handle(0), guest::virtio_drivers::VirtioPciBehaviour::from(profile_));
    guest::virtio_iommu::ViommuDriver::Context ctx{log_, clock_, machine_.memory(), machine_.allocator()};
    guest::virtio_iommu::ViommuBehaviour behaviour = guest::virtio_iommu::ViommuBehaviour::from(profile_);
    behaviour.x_noncoherent = driver_x_noncoherent_;
    viommu_ = std::make_unique<guest::virtio_iommu::ViommuDriver>(vdev, *viommu_transport_, std::move(ctx), behaviour);
    if (int err = viommu_->probe(); err) {
        viommu_error_ = err;
        return err;
    }
    iommu_registered();
    return 0;
}

void Boot::iommu_registered()
{
    // iommu_device_register(). From 6.15 (bcb81ac6ae3c) it probes every device the firmware puts
    // behind the instance, driver or not.
    const Function* iommu_fn = board_.iommu_function();
    iommu_.register_iommu(iommu_fn->pci->bdf(), *viommu_);
    gate_.set_iommu_on_bus(true);
    if (behaviour_.probe_at_register)
        for (Function* f : enumeration_)
            if (f != iommu_fn)
                (void)iommu_.dma_configure(*f->dev);
}

} // namespace viommu::system::boot
