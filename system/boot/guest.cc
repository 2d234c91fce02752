#include "system/boot/guest.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include <linux/virtio_ids.h>

#include <fmt/format.h>

#include "system/boot/kernel_config.h"
#include "guest-model/driver-core/dev_printk.h"
#include "guest-model/driver-core/driver_core.h"
#include "guest-model/iommu/core.h"
#include "guest-model/iommu/dma_api.h"
#include "guest-model/kernel/errno.h"
#include "system/machine/machine.h"
#include "guest-model/pci/topology.h"
#include "guest-model/vfio/gate.h"
#include "guest-model/viommu/driver.h"
#include "guest-model/virtio/mmio_driver.h"
#include "hw/endpoints/dma_engine.h"
#include "hw/virtio-iommu/device.h"

namespace viommu::system::boot {

namespace {

constexpr uint64_t kBuffer = 0x1000;            // one receive buffer / one VFIO user page
constexpr uint64_t kFrame = 1514;               // what a NIC writes into it
constexpr uint64_t kRing = 0x2000;              // a virtqueue's ring: one coherent allocation (8 KiB)
constexpr uint64_t kColdplugNs = 2 * guest::kNsecPerSec; // udev loads modules this long after the initcalls
constexpr uint64_t kSettleNs = 30 * guest::kNsecPerSec;  // then the guest runs a while before its user acts

// The hardware behind one PCI function.
struct Function {
    const FunctionDesc* desc = nullptr;
    guest::pci::Function* pci = nullptr;
    guest::Device* dev = nullptr;              // the guest's struct pci_dev
    std::set<std::string> id_table;     // drivers whose ID table matches it
    std::string driver_override;        // /sys/bus/pci/devices/*/driver_override
    unsigned deferrals = 0;
    std::unique_ptr<IrqWire> irq;
    std::unique_ptr<hw::DmaEngine> engine; // nullptr: the model does no DMA for it
    guest::Device* virtio = nullptr;           // the virtio device virtio-pci registered for it
    DmaOutcome dma;
};

// A virtio device on the virtio bus (struct virtio_device).
struct VirtioDev {
    uint32_t id = 0;
    Function* parent = nullptr;
};

// Drivers of emulated functions that never bus-master (the q35 chipset's LPC bridge and SMBus
// controller, a watchdog, a framebuffer in BAR memory): the model makes them do no DMA.
bool driver_does_dma(const std::string& driver)
{
    static const std::set<std::string, std::less<>> kNoDma = {"lpc_ich", "i801_smbus", "i6300ESB timer", "bochs-drm",
                                                              "bochs", "agpgart-intel"};
    return !driver.empty() && !kNoDma.count(driver);
}

bool is_virtio(Role r)
{
    return r == Role::kVirtioIommu || r == Role::kVirtioNet || r == Role::kVirtioBlk || r == Role::kVirtioOther;
}

class Boot {
public:
    Boot(const GuestSpec& spec, const guest::Profile& profile, const BootOptions& options);
    GuestReport run();

private:
    void build_hardware();
    void register_buses();
    void enumeration_order(guest::pci::Function* bus_owner, std::vector<Function*>& out);
    void enumerate();
    void describe_firmware();
    void register_driver(guest::DriverSpec spec);
    void load_module(guest::DriverSpec spec);
    guest::DriverSpec pci_driver(std::string name, std::function<int(Function&)> probe);
    guest::DriverSpec virtio_driver(std::string name, std::function<int(guest::Device&)> probe);
    void device_initcalls();
    void load_modules();
    int virtio_pci_probe(Function& f);
    int viommu_probe(guest::Device& vdev);
    void iommu_registered();
    void traffic(Function& f);
    std::string device_dma(Function& f, uint64_t iova, uint64_t phys, uint64_t len, uint32_t seed, DmaOutcome& out);
    void assign_to_vfio(Function& f, DeviceReport& report);
    DeviceReport report_for(Function& f);
    std::string no_group_reason(const Function& f) const;
    bool has(std::string_view behaviour) const { return profile_.has(behaviour).present; }
    Function* function_of(const guest::Device& dev) const;

    const GuestSpec& spec_;
    const guest::Profile& profile_;
    KernelConfig kconfig_;
    guest::VirtualClock clock_;
    guest::KernelLog log_;
    Machine machine_;
    guest::pci::Topology topology_;
    std::vector<Function> functions_;
    ::viommu::iommu::VirtioIommu* iommu_hw_ = nullptr;
    Function* iommu_fn_ = nullptr;
    guest::DriverCore core_;
    // The IOMMU driver outlives the IOMMU core, whose groups hold its domains.
    std::unique_ptr<guest::VirtioMmioDriver> viommu_transport_;
    std::unique_ptr<guest::ViommuDriver> viommu_;
    guest::iommu::IommuCore iommu_;
    guest::iommu::DmaApi dma_;
    guest::vfio::Gate gate_;
    guest::Bus* pci_bus_ = nullptr;
    guest::Bus* virtio_bus_ = nullptr;
    std::vector<Function*> enumeration_; // the order the PCI functions were added (the bus's list)
    std::vector<std::unique_ptr<VirtioDev>> virtio_devs_;
    unsigned virtio_index_ = 0;
    int viommu_error_ = 0;
    bool vfio_pci_registered_ = false;
    std::set<std::string> driver_managed_dma_;
    std::vector<std::string> warnings_;
};

guest::iommu::CoreConfig core_config(const KernelConfig& k, Arch arch)
{
    guest::iommu::CoreConfig c;
    // x86 describes the topology with ACPI VIOT; QEMU's arm64 virt machine booted with a device tree
    // puts an iommu-map on the PCI host bridge (of_iommu_configure(), which gives up waiting after the
    // deferred-probe timeout).
    c.firmware = arch == Arch::kX86_64 ? guest::iommu::Firmware::kAcpiViot : guest::iommu::Firmware::kDeviceTree;
    c.passthrough = k.passthrough;
    c.passthrough_cmdline = k.passthrough_cmdline;
    c.strict = k.strict;
    c.strict_cmdline = k.strict_cmdline;
    c.iommu_driver_built = k.virtio_iommu != Tristate::kNo;
    return c;
}

guest::iommu::CoreBehaviour core_behaviour(const guest::Profile& p)
{
    guest::iommu::CoreBehaviour b;
    b.dma_fq_type = p.has("iommu.dma_fq_type").present;
    b.lazy_needs_deferred_flush_cap = p.has("iommu.fq_needs_deferred_flush_cap").present;
    b.print_default_domain = p.has("iommu.default_domain_log").present;
    b.print_invalidation_policy = p.has("iommu.tlb_policy_log").present;
    b.log_trailing_space = !p.has("iommu.log_no_trailing_space").present;
    return b;
}

guest::ViommuBehaviour viommu_behaviour(const guest::Profile& p)
{
    guest::ViommuBehaviour b;
    b.bypass_config = p.has("viommu.bypass_config").present;
    b.map_batched = p.has("viommu.map_batched").present;
    b.detach_on_release = p.has("viommu.detach_on_release").present;
    b.cap_cache_coherency = p.has("viommu.cap_cache_coherency").present;
    b.cap_deferred_flush = p.has("viommu.cap_deferred_flush").present;
    b.instance_lookup_works = !p.has("iommu.fw_at_register").present || p.has("viommu.instance_lookup_robust").present;
    return b;
}

guest::vfio::GateConfig gate_config(const GuestSpec& spec, const KernelConfig& k)
{
    guest::vfio::GateConfig g;
    g.noiommu_built = k.vfio_noiommu;
    g.enable_unsafe_noiommu_mode = spec.cmdline.enable_unsafe_noiommu_mode;
    g.allow_unsafe_interrupts = spec.cmdline.allow_unsafe_interrupts;
    g.iommufd_allow_unsafe_interrupts = spec.cmdline.iommufd_allow_unsafe_interrupts;
    // Only a GICv3 ITS isolates MSIs: x86 without interrupt remapping and GICv2m do not.
    g.msi_isolated = spec.msi == MsiController::kGicV3Its;
    g.backend = spec.vfio_backend == VfioBackend::kIommufd ? guest::vfio::Backend::kIommufd : guest::vfio::Backend::kType1Container;
    return g;
}

guest::DriverCoreOptions core_options(const GuestSpec& spec)
{
    guest::DriverCoreOptions o;
    o.deferred_probe_timeout = spec.cmdline.deferred_probe_timeout;
    return o;
}

MachineConfig machine_config(const GuestSpec& spec)
{
    MachineConfig m;
    m.ram_size = spec.ram_bytes;
    return m;
}

Boot::Boot(const GuestSpec& spec, const guest::Profile& profile, const BootOptions& options)
    : spec_(spec), profile_(profile), kconfig_(resolve_kernel_config(profile, spec.arch, spec.cmdline)), log_(clock_),
      machine_(machine_config(spec)), core_(profile, log_, clock_, core_options(spec)),
      iommu_(core_, core_config(kconfig_, spec.arch), core_behaviour(profile)), dma_(iommu_, clock_, machine_.allocator()),
      gate_(profile, core_, iommu_, machine_.allocator(), gate_config(spec, kconfig_))
{
    log_.set_dynamic_debug(options.dynamic_debug);
    warnings_ = spec.warnings;
    warnings_.insert(warnings_.end(), kconfig_.warnings.begin(), kconfig_.warnings.end());
    // Drivers that manage their DMA themselves and do not use the default domain: pcieport
    // (c7d469849747), vfio-pci and pci-stub (v5.19, with the DMA ownership of 1ea2a07a532b).
    if (has("iommu.dma_ownership"))
        driver_managed_dma_ = {"pcieport", "vfio-pci", "pci-stub"};
}

Function* Boot::function_of(const guest::Device& dev) const
{
    return static_cast<Function*>(dev.platform_data());
}

void Boot::build_hardware()
{
    functions_.resize(spec_.functions.size());
    for (std::size_t i = 0; i < spec_.functions.size(); ++i) {
        const FunctionDesc& d = spec_.functions[i];
        if (d.parent >= static_cast<int>(i))
            throw std::invalid_argument(fmt::format("function {} ({}) comes before its bridge", i, d.pci.label));
        guest::pci::Function* parent = d.parent < 0 ? nullptr : functions_[static_cast<std::size_t>(d.parent)].pci;
        if (parent && !guest::pci::is_bridge(parent->kind))
            throw std::invalid_argument(fmt::format("function {} ({}) sits below a function that is not a bridge", i,
                                                    d.pci.label));
        functions_[i].desc = &d;
        functions_[i].pci = topology_.add(d.pci, parent);
    }
    topology_.assign_bus_numbers();

    if (spec_.iommu.present) {
        const auto idx = static_cast<std::size_t>(spec_.iommu.function);
        if (spec_.iommu.function < 0 || idx >= functions_.size() || functions_[idx].desc->role != Role::kVirtioIommu)
            throw std::invalid_argument("the IOMMU's function is not a virtio-iommu function");
        iommu_fn_ = &functions_[idx];
        // QEMU's virtio-iommu knows an endpoint once the device behind that ID exists: one per
        // requester ID QEMU uses, i.e. per alias owner (pci_device_get_iommu_bus_devfn()).
        ::viommu::iommu::IommuConfig config;
        config.endpoints.clear();
        std::set<uint32_t> ids;
        for (const Function& f : functions_)
            if (&f != iommu_fn_)
                ids.insert(guest::pci::qemu_requester_id(*f.pci));
        for (uint32_t id : ids)
            config.endpoints.push_back({::viommu::iommu::EndpointId(id), ::viommu::iommu::EndpointId(id)});
        config.boot_bypass = spec_.iommu.boot_bypass;
        config.withheld = spec_.iommu.withheld_features;
        // QEMU's pc machines report the x86 MSI window as a reserved MSI region of every endpoint.
        if (spec_.arch == Arch::kX86_64)
            config.reserved.push_back(::viommu::iommu::x86_msi_region());
        iommu_hw_ = &machine_.add_device<::viommu::iommu::VirtioIommu>(std::move(config));
    }

    for (Function& f : functions_) {
        const Role role = f.desc->role;
        // Who DMAs: a NIC fills receive buffers; a disk and an assigned function read and write.
        hw::DmaEngine::Kind kind = hw::DmaEngine::Kind::kAssigned;
        if (role == Role::kVirtioNet || (role == Role::kEmulated && driver_does_dma(f.desc->guest_driver)))
            kind = hw::DmaEngine::Kind::kNetRx;
        else if (role != Role::kVirtioBlk && role != Role::kHostdev)
            continue;
        // A virtio device without VIRTIO_F_ACCESS_PLATFORM reaches guest memory directly in QEMU, IOMMU
        // or not; every other function's DMA goes through the IOMMU under its QEMU requester ID.
        const bool translated = iommu_hw_ && (!is_virtio(role) || f.desc->iommu_platform);
        f.irq = std::make_unique<IrqWire>();
        f.engine = std::make_unique<hw::DmaEngine>(
            kind, hw::DmaPort(machine_.memory(), translated ? iommu_hw_ : nullptr, guest::pci::qemu_requester_id(*f.pci)),
            *f.irq);
    }
}

void Boot::register_buses()
{
    guest::BusType pci;
    pci.name = "pci";
    // pci_bus_match(): driver_override alone decides when set; else the driver's ID table.
    pci.match = [this](guest::Device& dev, const guest::Driver& drv) {
        const Function& f = *function_of(dev);
        if (!f.driver_override.empty())
            return f.driver_override == drv.name() ? 1 : 0;
        return f.id_table.count(drv.name()) ? 1 : 0;
    };
    // pci_dma_configure(): the firmware's IOMMU configuration, then (v5.19) the default domain's use.
    pci.dma_configure = [this](guest::Device& dev) {
        Function& f = *function_of(dev);
        if (int err = iommu_.dma_configure(dev); err) {
            if (err == -guest::kEPROBE_DEFER)
                ++f.deferrals;
            return err;
        }
        if (has("iommu.dma_ownership") && !driver_managed_dma_.count(dev.driver()->name()))
            return iommu_.device_use_default_domain(dev);
        return 0;
    };
    // pci_device_probe()/pci_device_remove(), with the bus's dma_cleanup (25f3bcfc54bc) on failure.
    pci.probe = [this](guest::Device& dev) {
        const int ret = dev.driver()->call_probe(dev);
        if (ret && has("iommu.dma_ownership") && !driver_managed_dma_.count(dev.driver()->name()))
            iommu_.device_unuse_default_domain(dev);
        return ret;
    };
    pci.remove = [this](guest::Device& dev) {
        dev.driver()->call_remove(dev);
        if (has("iommu.dma_ownership") && !driver_managed_dma_.count(dev.driver()->name()))
            iommu_.device_unuse_default_domain(dev);
    };
    pci_bus_ = *core_.bus_register(std::move(pci));

    guest::BusType virtio;
    virtio.name = "virtio";
    // virtio_dev_match(): the driver's ID table against the device ID.
    virtio.match = [](guest::Device& dev, const guest::Driver& drv) {
        const auto* v = static_cast<const VirtioDev*>(dev.platform_data());
        return (drv.name() == "virtio_iommu" && v->id == VIRTIO_ID_IOMMU) ||
                       (drv.name() == "virtio_net" && v->id == VIRTIO_ID_NET) ||
                       (drv.name() == "virtio_blk" && v->id == VIRTIO_ID_BLOCK)
                   ? 1
                   : 0;
    };
    virtio_bus_ = *core_.bus_register(std::move(virtio));
}

void Boot::enumeration_order(guest::pci::Function* bus_owner, std::vector<Function*>& out)
{
    // pci_bus_add_devices(): every device of the bus, then the buses below its bridges.
    std::vector<Function*> on_bus;
    for (Function& f : functions_)
        if (f.pci->parent == bus_owner)
            on_bus.push_back(&f);
    std::sort(on_bus.begin(), on_bus.end(),
              [](const Function* a, const Function* b) { return a->pci->devfn() < b->pci->devfn(); });
    out.insert(out.end(), on_bus.begin(), on_bus.end());
    for (Function* f : on_bus)
        if (guest::pci::is_bridge(f->pci->kind))
            enumeration_order(f->pci, out);
}

void Boot::enumerate()
{
    std::vector<Function*>& order = enumeration_;
    enumeration_order(nullptr, order);
    std::map<const guest::pci::Function*, Function*> by_pci;
    for (Function& f : functions_)
        by_pci[f.pci] = &f;
    for (Function* f : order) {
        const Role role = f->desc->role;
        if (role == Role::kHostBridge && spec_.arch == Arch::kX86_64)
            f->id_table.insert("agpgart-intel");
        if (guest::pci::is_bridge(f->pci->kind))
            f->id_table.insert("pcieport");
        if (is_virtio(role))
            f->id_table.insert("virtio-pci");
        // vfio-pci has no IDs of its own: it binds only through driver_override.
        if (!f->desc->guest_driver.empty() && f->desc->guest_driver != "vfio-pci")
            f->id_table.insert(f->desc->guest_driver);
        guest::DeviceSpec ds;
        ds.name = f->pci->bdf();
        ds.bus = pci_bus_;
        ds.parent = f->pci->parent ? by_pci.at(f->pci->parent)->dev : nullptr;
        ds.platform_data = f;
        f->dev = &core_.device_initialize(std::move(ds));
        iommu_.set_pci_function(*f->dev, *f->pci);
    }
    describe_firmware();
    for (Function* f : order)
        (void)core_.device_add(*f->dev);
}

void Boot::describe_firmware()
{
    // VIOT (QEMU's hw/acpi/viot.c: one PCI range for every bus, endpoint ID = requester ID) or the
    // device tree's iommu-map: every PCI function but the IOMMU itself sits behind the virtio-iommu, and
    // Linux's IDs for it are its requester ID and DMA aliases (viot_pci_dev_iommu_init() is called
    // through pci_for_each_dma_alias()).
    if (!iommu_fn_ || !kconfig_.firmware_describes)
        return;
    const std::string fwnode = iommu_fn_->pci->bdf();
    iommu_.set_iommu_node(*iommu_fn_->dev, fwnode);
    for (Function& f : functions_) {
        if (&f == iommu_fn_)
            continue;
        guest::iommu::FirmwareLink link;
        link.iommu = fwnode;
        for (uint16_t id : guest::pci::linux_dma_aliases(*f.pci))
            link.ids.push_back(id);
        iommu_.set_firmware_link(*f.dev, std::move(link));
    }
}

void Boot::register_driver(guest::DriverSpec spec)
{
    const std::string name = spec.name;
    if (auto drv = core_.driver_register(std::move(spec)); !drv)
        log_.print(guest::LogLevel::err, "Error: Driver '{}' could not be registered ({})", name, guest::errno_symbol(drv.error()));
}

void Boot::load_module(guest::DriverSpec spec)
{
    // A module's init registers its driver; the deferred-probe work its binds trigger runs before udev's
    // next modprobe has loaded anything (a workqueue item against a process start).
    register_driver(std::move(spec));
    core_.run_pending_work();
}

guest::DriverSpec Boot::pci_driver(std::string name, std::function<int(Function&)> probe)
{
    guest::DriverSpec d;
    d.name = std::move(name);
    d.bus = pci_bus_;
    d.probe = [this, probe = std::move(probe)](guest::Device& dev) { return probe(*function_of(dev)); };
    return d;
}

guest::DriverSpec Boot::virtio_driver(std::string name, std::function<int(guest::Device&)> probe)
{
    guest::DriverSpec d;
    d.name = std::move(name);
    d.bus = virtio_bus_;
    d.probe = std::move(probe);
    return d;
}

int Boot::virtio_pci_probe(Function& f)
{
    // virtio_pci_probe() -> register_virtio_device(): "virtio%u" on the virtio bus, probed at once.
    auto vd = std::make_unique<VirtioDev>();
    vd->parent = &f;
    const Role role = f.desc->role;
    vd->id = role == Role::kVirtioIommu ? VIRTIO_ID_IOMMU
             : role == Role::kVirtioNet ? VIRTIO_ID_NET
             : role == Role::kVirtioBlk ? VIRTIO_ID_BLOCK
                                        : 0; // another virtio device: no driver modelled
    guest::DeviceSpec ds;
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

int Boot::viommu_probe(guest::Device& vdev)
{
    if (!iommu_hw_ || viommu_)
        return -guest::kENODEV;
    viommu_transport_ = std::make_unique<guest::VirtioMmioDriver>(machine_.handle(0));
    guest::ViommuDriver::Context ctx{log_, clock_, machine_.memory(), machine_.allocator()};
    viommu_ = std::make_unique<guest::ViommuDriver>(vdev, *viommu_transport_, std::move(ctx), viommu_behaviour(profile_));
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
    iommu_.register_iommu(iommu_fn_->pci->bdf(), *viommu_);
    gate_.set_iommu_on_bus(true);
    if (has("iommu.fw_at_register"))
        for (Function* f : enumeration_)
            if (f != iommu_fn_)
                (void)iommu_.dma_configure(*f->dev);
}

void Boot::device_initcalls()
{
    // drivers/Makefile's link order: pci (pcieport), virtio (virtio-pci), char/agp, iommu
    // (virtio_iommu when built in).
    guest::DriverSpec pcieport = pci_driver("pcieport", [](Function& f) {
        // pcie_portdrv_probe(): root ports and switch ports only; the other bridges are -ENODEV, after
        // dma_configure() has put them in a group.
        const guest::pci::Kind k = f.pci->kind;
        return k == guest::pci::Kind::kRootPort || k == guest::pci::Kind::kSwitchUpstream || k == guest::pci::Kind::kSwitchDownstream
                   ? 0
                   : -guest::kENODEV;
    });
    register_driver(std::move(pcieport));
    if (kconfig_.virtio_pci == Tristate::kBuiltin)
        register_driver(pci_driver("virtio-pci", [this](Function& f) { return virtio_pci_probe(f); }));
    if (spec_.arch == Arch::kX86_64) {
        // agp_intel_probe(): QEMU's q35 host bridge has no graphics aperture.
        register_driver(pci_driver("agpgart-intel", [](Function&) { return -guest::kENODEV; }));
    }
    if (kconfig_.virtio_iommu == Tristate::kBuiltin)
        register_driver(virtio_driver("virtio_iommu", [this](guest::Device& v) { return viommu_probe(v); }));
}

void Boot::load_modules()
{
    // udev's coldplug: a module for every device that has none, in the order the devices appeared.
    if (kconfig_.virtio_pci == Tristate::kModule)
        load_module(pci_driver("virtio-pci", [this](Function& f) { return virtio_pci_probe(f); }));
    if (kconfig_.virtio_iommu == Tristate::kModule)
        load_module(virtio_driver("virtio_iommu", [this](guest::Device& v) { return viommu_probe(v); }));
    load_module(virtio_driver("virtio_net", [](guest::Device&) { return 0; }));
    load_module(virtio_driver("virtio_blk", [](guest::Device&) { return 0; }));
    std::set<std::string> loaded;
    for (Function& f : functions_) {
        const std::string& name = f.desc->guest_driver;
        if (name.empty() || name == "vfio-pci" || !loaded.insert(name).second)
            continue;
        load_module(pci_driver(name, [](Function&) { return 0; }));
    }
}

std::string Boot::device_dma(Function& f, uint64_t iova, uint64_t phys, uint64_t len, uint32_t seed, DmaOutcome& out)
{
    // The driver programs its device (registers only) and the device writes a frame at iova.
    hw::DmaEngine& e = *f.engine;
    e.write(hw::DmaEngine::kAddrLow, 4, iova & 0xffffffff);
    e.write(hw::DmaEngine::kAddrHigh, 4, iova >> 32);
    e.write(hw::DmaEngine::kLength, 4, len);
    e.write(hw::DmaEngine::kSeed, 4, seed);
    e.write(hw::DmaEngine::kCommand, 4, hw::DmaEngine::kCmdWrite);
    machine_.run(); // fault events reach the guest's virtio-iommu driver
    const auto status = e.read(hw::DmaEngine::kStatus, 4);
    e.write(hw::DmaEngine::kIrqAck, 4, 1);
    const uint32_t ep = e.port().endpoint_id();
    if (status == hw::DmaEngine::kStatusFault) {
        const uint64_t at = e.read(hw::DmaEngine::kFaultLow, 4) | e.read(hw::DmaEngine::kFaultHigh, 4) << 32;
        out = {DmaResult::kFault, fmt::format("fault at {:#x} (endpoint {:#06x})", at, ep)};
        return out.detail;
    }
    std::vector<uint8_t> landed(len);
    if (!machine_.memory().read(GuestAddr(phys), landed)) {
        out = {DmaResult::kCorrupt, fmt::format("buffer {:#x} is outside guest RAM", phys)};
        return out.detail;
    }
    for (uint64_t i = 0; i < len; ++i) {
        if (landed[i] != hw::DmaEngine::pattern(seed, i)) {
            out = {DmaResult::kCorrupt,
                   fmt::format("wrote at {:#x} but the bytes did not land at {:#x} (endpoint {:#06x})", iova, phys, ep)};
            return out.detail;
        }
    }
    const auto attached = e.port().behind_iommu() ? iommu_hw_->attachment(::viommu::iommu::EndpointId(ep)) : std::nullopt;
    if (!e.port().behind_iommu())
        out = {DmaResult::kDirect, fmt::format("{:#x}, untranslated", phys)};
    else if (!attached)
        out = {DmaResult::kBypassed, fmt::format("{:#x}: endpoint {:#06x} is in no domain and bypasses", iova, ep)};
    else if (attached->bypass)
        out = {DmaResult::kIdentity, fmt::format("{:#x}: domain {} is a bypass domain", iova, attached->domain)};
    else
        out = {DmaResult::kTranslated, fmt::format("IOVA {:#x} -> {:#x} in domain {}", iova, phys, attached->domain)};
    return {};
}

void Boot::traffic(Function& f)
{
    // What the bound driver does first: a virtio driver allocates its ring (dma_alloc_coherent(), kept)
    // and every NIC-like driver posts a receive buffer (dma_map_single(DMA_FROM_DEVICE)); the device
    // fills it. A virtio ring without VIRTIO_F_ACCESS_PLATFORM does not use the DMA API at all.
    if (!f.engine || !f.dev->bound())
        return;
    const Role role = f.desc->role;
    if (is_virtio(role) && !(f.virtio && f.virtio->bound()))
        return;
    const bool dma_api = !is_virtio(role) || f.desc->iommu_platform;
    if (is_virtio(role) && dma_api)
        (void)dma_.alloc_coherent(*f.dev, kRing);
    const auto buf = machine_.allocator().alloc(kBuffer, kBuffer);
    if (!buf)
        return;
    uint64_t addr = buf->value();
    if (dma_api) {
        auto mapped = dma_.map_single(*f.dev, buf->value(), kBuffer, guest::iommu::DmaDirection::kFromDevice);
        if (!mapped) {
            f.dma = {DmaResult::kNotRun, fmt::format("dma_map_single failed ({})", guest::errno_symbol(mapped.error()))};
            return;
        }
        addr = *mapped;
    }
    (void)device_dma(f, addr, buf->value(), kFrame, f.pci->requester_id(), f.dma);
    if (dma_api)
        dma_.unmap_single(*f.dev, addr, kBuffer, guest::iommu::DmaDirection::kFromDevice);
}

void Boot::assign_to_vfio(Function& f, DeviceReport& report)
{
    if (!kconfig_.vfio) {
        guest::vfio::Verdict v;
        v.rule = "vfio.built";
        v.error = guest::kENODEV;
        v.reason = fmt::format("{} does not build VFIO (CONFIG_VFIO)", profile_.name());
        report.vfio = v;
        return;
    }
    if (!vfio_pci_registered_) {
        gate_.load_module();
        register_driver(gate_.vfio_pci_driver(*pci_bus_, [this](const guest::Device& d) { return function_of(d)->pci; }));
        vfio_pci_registered_ = true;
    }
    // What `driverctl set-override` does: unbind, driver_override=vfio-pci, bind.
    if (f.dev->bound())
        core_.device_release_driver(*f.dev);
    f.driver_override = "vfio-pci";
    (void)core_.device_attach(*f.dev);
    if (!gate_.bind_verdict(*f.dev)) {
        // vfio-pci's probe never ran: dma_configure() deferred it (an IOMMU that never came up).
        guest::vfio::Verdict v;
        v.rule = "vfio.probe_deferred";
        v.error = guest::kEPROBE_DEFER;
        v.reason = fmt::format("vfio-pci's probe is deferred: {}", f.dev->deferred_probe_reason().value_or(
                                                                        "waiting for the device's IOMMU"));
        report.vfio = v;
        return;
    }
    guest::vfio::Verdict v = *gate_.bind_verdict(*f.dev);
    if (v.admitted) {
        v = gate_.use(*f.dev, [this, &f, &report](uint64_t iova, uint64_t phys, uint64_t size) {
            return device_dma(f, iova, phys, size, 0x5a, report.dma);
        });
    } else if (v.rule == "vfio.needs_iommu_group") {
        v.reason += ": " + no_group_reason(f);
        if (!kconfig_.why_no_iommu.empty())
            v.remedies.push_back("a kernel that drives the virtio-iommu (x86: 5.14 or later with CONFIG_VIRTIO_IOMMU "
                                 "and CONFIG_ACPI_VIOT; arm64: 5.3 or later)");
        else if (guest::pci::qemu_requester_id(*f.pci) != f.pci->requester_id())
            v.remedies.push_back("plug the device into a PCIe root port, not behind a PCIe-to-PCI or PCI bridge");
        v.remedies.push_back("no-IOMMU mode: CONFIG_VFIO_NOIOMMU=y and vfio.enable_unsafe_noiommu_mode=1 (no DMA "
                             "isolation at all)");
    }
    report.vfio = v;
}

std::string Boot::no_group_reason(const Function& f) const
{
    if (!iommu_fn_)
        return "the machine has no virtio-iommu";
    if (!kconfig_.why_no_iommu.empty())
        return kconfig_.why_no_iommu;
    if (!viommu_)
        return "the virtio-iommu driver has not bound";
    if (viommu_error_)
        return fmt::format("the virtio-iommu driver failed to probe ({})", guest::errno_symbol(viommu_error_));
    if (has("iommu.fw_at_register") && !has("viommu.instance_lookup_robust"))
        return "this kernel does not find the virtio-iommu instance of its endpoints (fixed by 72b6f7cd89ce in 6.17 "
               "and 6.16.4)";
    const auto ids = guest::pci::linux_dma_aliases(*f.pci);
    const uint32_t qemu = guest::pci::qemu_requester_id(*f.pci);
    if (!ids.empty() && ids.front() != qemu) {
        const guest::pci::Function& owner = guest::pci::qemu_alias_owner(*f.pci);
        return fmt::format("behind {} its DMA carries the alias {:#06x}, the only ID QEMU's virtio-iommu knows it by, "
                           "but Linux PROBEs its own requester ID {:#06x}: the device answers NOENT and Linux goes on "
                           "without an IOMMU",
                           owner.bdf(), qemu, ids.front());
    }
    if (spec_.arch != Arch::kX86_64 && f.deferrals && f.dev->bound())
        return fmt::format("it stopped waiting for the IOMMU when the deferred-probe timeout ran out ({} s; "
                           "of_iommu_configure() then goes on without it) and bound before virtio_iommu loaded",
                           core_.deferred_probe_timeout());
    if (!f.dev->bound() && !has("iommu.fw_at_register"))
        return "no driver has bound it, and groups are made when a driver binds (before 6.15)";
    return "the IOMMU did not take it";
}

DeviceReport Boot::report_for(Function& f)
{
    DeviceReport r;
    r.bdf = f.pci->bdf();
    r.label = f.desc->source.empty() ? f.desc->pci.label : f.desc->source;
    r.role = role_name(f.desc->role);
    if (f.dev->bound()) {
        r.driver = f.dev->driver()->name();
        if (f.virtio && f.virtio->bound())
            r.driver += "/" + f.virtio->driver()->name();
    }
    if (const guest::iommu::Group* g = iommu_.group_of(*f.dev)) {
        r.group = g->id();
        if (g->domain())
            r.domain = guest::iommu::domain_type_name(g->domain()->type());
        // iommu_group_show_resv_regions(), "0x%016llx 0x%016llx %s" with iommu_group_resv_type_string[].
        for (const guest::iommu::ResvRegion& rr : iommu_.device(*f.dev)->resv) {
            static constexpr const char* kType[] = {"direct", "direct-relaxable", "reserved", "msi", "msi"};
            r.reserved_regions.push_back(
                fmt::format("{:#018x} {:#018x} {}", rr.start, rr.last(), kType[static_cast<int>(rr.type)]));
        }
    }
    for (uint16_t id : guest::pci::linux_dma_aliases(*f.pci))
        r.linux_ids.push_back(id);
    r.qemu_endpoint = guest::pci::qemu_requester_id(*f.pci);
    r.behind_iommu = iommu_fn_ && &f != iommu_fn_ && kconfig_.firmware_describes;
    r.deferrals = f.deferrals;
    if (r.behind_iommu && !r.group && f.dev->bound() && !guest::pci::is_bridge(f.pci->kind) &&
        f.desc->role != Role::kHostBridge)
        r.no_group_reason = no_group_reason(f);
    r.dma = f.dma;
    return r;
}

GuestReport Boot::run()
{
    build_hardware();
    // subsys_initcall
    iommu_.subsys_init();
    register_buses();
    enumerate();
    device_initcalls();
    core_.late_initcall();
    core_.advance_time(kColdplugNs);
    load_modules();
    core_.run_pending_work();
    for (Function& f : functions_)
        traffic(f);
    // The guest settles before its user gets to VFIO: the deferred-probe timeout fires for devices still
    // waiting ("deferred probe pending"), flush-queue timers run.
    core_.advance_time(kSettleNs);
    dma_.run_timers();

    GuestReport report;
    report.guest = spec_.name;
    report.kernel = profile_.name();
    report.kernel_version = profile_.version().str();
    std::vector<DeviceReport> devices;
    for (Function& f : functions_)
        devices.push_back(report_for(f));
    for (std::size_t i = 0; i < functions_.size(); ++i)
        if (functions_[i].desc->vfio)
            assign_to_vfio(functions_[i], devices[i]);
    // The driver and group after VFIO had its way.
    for (std::size_t i = 0; i < functions_.size(); ++i) {
        DeviceReport now = report_for(functions_[i]);
        devices[i].driver = now.driver;
        devices[i].group = now.group;
        devices[i].domain = now.domain;
        devices[i].reserved_regions = now.reserved_regions;
    }
    std::vector<std::size_t> order(functions_.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return functions_[a].pci->requester_id() < functions_[b].pci->requester_id();
    });
    for (std::size_t i : order)
        report.devices.push_back(std::move(devices[i]));

    IommuReport& ir = report.iommu;
    ir.present = iommu_fn_ != nullptr;
    ir.driver_built = kconfig_.why_no_iommu.empty();
    ir.why_not = ir.present ? kconfig_.why_no_iommu : "the machine has no virtio-iommu";
    if (iommu_fn_) {
        ir.bdf = iommu_fn_->pci->bdf();
        ir.device = iommu_fn_->virtio ? iommu_fn_->virtio->name() : "";
        ir.driver_ready = viommu_ && viommu_->ready();
        if (viommu_)
            ir.features = viommu_->negotiated();
        if (viommu_error_)
            ir.why_not = fmt::format("the virtio-iommu driver failed to probe ({})", guest::errno_symbol(viommu_error_));
        ir.requests = iommu_hw_->stats().requests;
        ir.faults = iommu_hw_->stats().faults_reported;
    }
    report.warnings = warnings_;
    report.dmesg = log_.dmesg();
    return report;
}

} // namespace

const char* dma_result_name(DmaResult r)
{
    switch (r) {
    case DmaResult::kNotRun: return "none";
    case DmaResult::kTranslated: return "translated";
    case DmaResult::kIdentity: return "identity";
    case DmaResult::kBypassed: return "bypassed";
    case DmaResult::kDirect: return "direct";
    case DmaResult::kFault: return "fault";
    case DmaResult::kCorrupt: return "corrupt";
    }
    return "?";
}

int GuestReport::exit_code() const
{
    for (const DeviceReport& d : devices)
        if (d.vfio && !d.vfio->admitted)
            return 1;
    return 0;
}

GuestReport boot_guest(const GuestSpec& spec, const guest::Profile& profile, const BootOptions& options)
{
    Boot boot(spec, profile, options);
    return boot.run();
}

} // namespace viommu::system::boot
