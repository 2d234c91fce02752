// The guest kernel's boot, in the order Linux brings it up (init/main.c's do_initcalls(), then udev):
// subsys_initcall, PCI enumeration, device_initcall, late_initcall, udev's coldplug, the drivers' first
// DMA, and a while for the guest to settle before its user acts.
#include <set>

#include <fmt/format.h>

#include "guest-model/kernel/errno.h"
#include "system/boot/boot.h"
#include "system/boot/builtin_drivers.h"
#include "system/boot/virtio_roles.h"

namespace viommu::system::boot {

namespace {

using guest::driver_core::DriverSpec;
using guest::kernel::kNsecPerSec;
using guest::iommu::DmaDirection;
namespace pci = guest::pci;

constexpr uint64_t kBuffer = 0x1000;            // one receive buffer
constexpr uint64_t kFrame = 1514;               // what a NIC writes into it
constexpr uint64_t kRing = 0x2000;              // a virtqueue's ring: one coherent allocation (8 KiB)
constexpr uint64_t kColdplugNs = 2 * kNsecPerSec; // udev loads modules this long after the initcalls
constexpr uint64_t kSettleNs = 30 * kNsecPerSec;  // then the guest runs a while before its user acts

} // namespace

void Boot::boot_kernel()
{
    // subsys_initcall
    iommu_.subsys_init();
    register_pci_bus();
    register_virtio_bus();
    enumerate();
    device_initcalls();
    core_.late_initcall();
    core_.advance_time(kColdplugNs);
    load_modules();
    core_.run_pending_work();
    for (Function& f : board_.functions())
        traffic(f);
    // The guest settles before its user gets to VFIO: the deferred-probe timeout fires for devices still
    // waiting ("deferred probe pending"), flush-queue timers run.
    core_.advance_time(kSettleNs);
    dma_.run_timers();
}

void Boot::register_driver(DriverSpec spec)
{
    const std::string name = spec.name;
    if (auto drv = core_.driver_register(std::move(spec)); !drv)
        log_.print(guest::kernel::LogLevel::err, "Error: Driver '{}' could not be registered ({})", name,
                   guest::kernel::errno_symbol(drv.error()));
}

void Boot::load_module(DriverSpec spec)
{
    // A module's init registers its driver; the deferred-probe work its binds trigger runs before udev's
    // next modprobe has loaded anything (a workqueue item against a process start).
    register_driver(std::move(spec));
    core_.run_pending_work();
}

void Boot::device_initcalls()
{
    // drivers/Makefile's link order: pci (pcieport), virtio (virtio-pci), char/agp, iommu
    // (virtio_iommu when built in).
    DriverSpec pcieport = pci_driver("pcieport", [](Function& f) {
        // pcie_portdrv_probe(): root ports and switch ports only; the other bridges are -ENODEV, after
        // dma_configure() has put them in a group.
        const pci::Kind k = f.pci->kind;
        return k == pci::Kind::kRootPort || k == pci::Kind::kSwitchUpstream || k == pci::Kind::kSwitchDownstream
                   ? 0
                   : -guest::kernel::kENODEV;
    });
    register_driver(std::move(pcieport));
    if (kconfig_.virtio_pci == Tristate::kBuiltin)
        register_driver(pci_driver("virtio-pci", [this](Function& f) { return virtio_pci_probe(f); }));
    if (spec_.arch == Arch::kX86_64) {
        // agp_intel_probe(): QEMU's q35 host bridge has no graphics aperture.
        register_driver(pci_driver("agpgart-intel", [](Function&) { return -guest::kernel::kENODEV; }));
    }
    if (kconfig_.virtio_iommu == Tristate::kBuiltin)
        register_driver(virtio_iommu_driver());
    // Endpoint drivers built in (mfd/, ata/, net/, i2c/ come after iommu/): with virtio_iommu built in
    // too, the IOMMU is already up and their devices get groups now, before the deferred ones get theirs
    // at late_initcall; with virtio_iommu a module they join the deferred list here, in this order.
    // vfio-pci binds only a device given to it (driver_override), so whether it is built in or a module
    // changes no group number.
    for (const std::string& name : builtin_pci_drivers(profile_))
        register_driver(pci_driver(name, [](Function&) { return 0; }));
}

void Boot::load_modules()
{
    // udev's coldplug: a module for every device that has none, in the order the devices appeared.
    if (kconfig_.virtio_pci == Tristate::kModule)
        load_module(pci_driver("virtio-pci", [this](Function& f) { return virtio_pci_probe(f); }));
    if (kconfig_.virtio_iommu == Tristate::kModule)
        load_module(virtio_iommu_driver());
    for (const VirtioRole& r : virtio_roles())
        if (!r.driver.empty() && r.role != Role::kVirtioIommu)
            load_module(virtio_driver(std::string(r.driver), [](guest::driver_core::Device&) { return 0; }));
    // udev replays the "add" uevents in the order the devices were added: pci_bus_add_devices() order
    // (each bus's devices, then the buses below its bridges), not the order of the description.
    std::set<std::string> loaded;
    for (const Function* f : enumeration_) {
        const std::string& name = f->desc->guest_driver;
        if (name.empty() || name == "vfio-pci" || pci_driver_build(profile_, name) != DriverBuild::kModule ||
            !loaded.insert(name).second)
            continue;
        load_module(pci_driver(name, [](Function&) { return 0; }));
    }
}

void Boot::traffic(Function& f)
{
    // What the bound driver does first: a virtio driver allocates its ring (dma_alloc_coherent(), kept)
    // and every NIC-like driver posts a receive buffer (dma_map_single(DMA_FROM_DEVICE)); the device
    // fills it. A virtio ring without VIRTIO_F_ACCESS_PLATFORM does not use the DMA API at all.
    if (!f.engine || !f.dev->bound())
        return;
    const bool virtio = virtio_role(f.desc->role) != nullptr;
    if (virtio && !(f.virtio && f.virtio->bound()))
        return;
    const bool dma_api = !virtio || f.desc->iommu_platform;
    if (virtio && dma_api)
        (void)dma_.alloc_coherent(*f.dev, kRing);
    const auto buf = machine_.allocator().alloc(kBuffer, kBuffer);
    if (!buf)
        return;
    uint64_t addr = buf->value();
    if (dma_api) {
        auto mapped = dma_.map_single(*f.dev, buf->value(), kBuffer, DmaDirection::kFromDevice);
        if (!mapped) {
            f.dma = {DmaResult::kNotRun, fmt::format("dma_map_single failed ({})", guest::kernel::errno_symbol(mapped.error())), {}};
            return;
        }
        addr = *mapped;
    }
    (void)board_.device_dma(f, addr, buf->value(), kFrame, f.pci->requester_id(), f.dma);
    if (dma_api)
        dma_.unmap_single(*f.dev, addr, kBuffer, DmaDirection::kFromDevice);
}

} // namespace viommu::system::boot
