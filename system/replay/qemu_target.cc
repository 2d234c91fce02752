#include "system/replay/qemu_target.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <linux/virtio_iommu.h>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio-drivers/pci_modern_driver.h"
#include "system/qemu/qemu_process.h"
#include "system/qemu/qtest_pci.h"
#include "system/qemu/qtest_wait.h"

namespace viommu::system::replay {

namespace {

namespace vi = hw::virtio_iommu;

constexpr uint64_t kRamBytes = uint64_t{32} << 20;
constexpr uint64_t kDriverMemoryBase = 0x100000; // above q35's legacy hole (q35_layout.h)
// q35's built-in functions, which pc_q35_init() realizes whatever the command line says (QEMU 7.2): the
// MCH host bridge at 00:00.0 and ICH9's LPC bridge, SATA controller and SMBus at 00:1f.0, .2 and .3.
// QEMU's IOMMU translates them (an ATTACH of each answers OK); the other functions of those two slots
// cannot be given a device.
constexpr unsigned kHostBridgeSlot = 0x00;
constexpr unsigned kIch9Slot = 0x1f;
constexpr uint32_t kBuiltIn[] = {0x00, 0xf8, 0xfa, 0xfb};

bool built_in(uint32_t id)
{
    return std::find(std::begin(kBuiltIn), std::end(kBuiltIn), id) != std::end(kBuiltIn);
}

// Why the peer, QEMU 7.2's virtio-iommu-pci on q35, cannot be given the device configuration c.
std::optional<std::string> unexpressible(const vi::IommuConfig& c)
{
    // What any device profile of that release refuses (granule, input and domain ranges, probe_size,
    // legacy bypass, virtio-iommu feature switches, per-endpoint reserved regions, wide endpoint IDs).
    const vi::DeviceProfile* release = vi::find_device_profile("qemu-7.2");
    if (const auto problems = vi::qemu_release_problems(c, *release->behaviour.qemu); !problems.empty())
        return problems.front();
    // Our limits (a guest reaching one gets NOMEM) or, under a QEMU profile, none, as in QEMU.
    const auto limits = [](const vi::IommuLimits& l) {
        return std::tuple(l.max_domains, l.max_mappings_per_domain, l.max_attached_endpoints, l.max_total_mappings);
    };
    if (limits(c.limits) != limits(vi::IommuLimits{}) && limits(c.limits) != limits(vi::IommuLimits::unbounded()))
        return "QEMU's virtio-iommu has no limits on domains, mappings or attached endpoints to set";
    // pc_machine_device_pre_plug_cb() (hw/i386/pc.c, QEMU 7.2) sets the reserved regions itself: the
    // MSI window for every endpoint; a reserved-regions property given as well is refused by QEMU.
    if (c.reserved.size() != 1 || !c.reserved[0].endpoints.empty() || c.reserved[0].range != vi::x86_msi_region().range ||
        c.reserved[0].type != vi::ResvMemSubtype::kMsi)
        return "QEMU on q35 reserves exactly the MSI window 0xfee00000-0xfeefffff for every endpoint "
               "(pc_machine_device_pre_plug_cb()); use --platform x86 and no --resv";
    // Of the transport's features, virtio-pci has a switch for these two only.
    const virtio::FeatureBits switchable =
        virtio::feature(virtio::kFIndirectDesc) | virtio::feature(virtio::kFEventIdx);
    if (c.withheld & ~switchable)
        return "QEMU's virtio-iommu-pci can withhold only indirect-desc and event-idx (its indirect_desc and "
               "event_idx properties)";
    return std::nullopt;
}

} // namespace

std::set<uint32_t> endpoints_named(const std::vector<Step>& steps)
{
    std::set<uint32_t> out;
    const auto le32 = [](const std::vector<uint8_t>& b, std::size_t at) {
        return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
    };
    for (const Step& step : steps) {
        std::visit(
            [&](const auto& op) {
                using T = std::decay_t<decltype(op)>;
                if constexpr (std::is_same_v<T, AttachOp> || std::is_same_v<T, DetachOp> ||
                              std::is_same_v<T, ProbeOp> || std::is_same_v<T, DmaOp>) {
                    out.insert(op.endpoint);
                } else if constexpr (std::is_same_v<T, RawOp>) {
                    // struct virtio_iommu_req_attach/detach: head (4), domain (4), endpoint (4);
                    // struct virtio_iommu_req_probe: head (4), endpoint (4).
                    const auto& b = op.readable;
                    if (b.empty())
                        return;
                    if ((b[0] == VIRTIO_IOMMU_T_ATTACH || b[0] == VIRTIO_IOMMU_T_DETACH) && b.size() >= 12)
                        out.insert(le32(b, 8));
                    else if (b[0] == VIRTIO_IOMMU_T_PROBE && b.size() >= 8)
                        out.insert(le32(b, 4));
                }
            },
            step.op);
    }
    return out;
}

Expected<std::vector<std::string>, std::string>
qemu_devices(const vi::IommuConfig& config, const std::set<uint32_t>& named, uint8_t& iommu_devfn)
{
    if (auto why = unexpressible(config))
        return unexpected(*why);
    std::map<unsigned, std::vector<unsigned>> present; // slot -> functions of endpoints to give a device
    std::set<unsigned> used_slots;                      // slots of every endpoint named, existing or not
    for (const uint32_t id : named) {
        // virtio_iommu_mr() (hw/virtio/virtio-iommu.c, QEMU 7.2) finds the PCI device of an endpoint by
        // PCI_BUS_NUM(sid) and the low byte: an ID beyond 16 bits reaches the device of its low 16 bits
        // (ATTACH of 0x10000 answers OK, for 00:00.0). Neither device profile models that.
        if (id > 0xffff)
            return unexpected(fmt::format("the script names endpoint {:#x}, beyond 16 bits: QEMU takes its low 16 "
                                          "bits as the requester ID ({:#x}), which viommu does not model",
                                          id, id & 0xffff));
        const bool exists = config.endpoint_exists(vi::EndpointId(id));
        const unsigned slot = (id & 0xff) >> 3;
        if (id > 0xff) {
            if (exists)
                return unexpected(fmt::format("endpoint {:#x} is on bus {:#x}; the QEMU peer places endpoints on "
                                              "q35's root bus only",
                                              id, id >> 8));
            continue; // on a bus QEMU's machine does not have: absent on both sides
        }
        used_slots.insert(slot);
        if (built_in(id) && !exists)
            return unexpected(fmt::format("endpoint {:#x} (00:{:02x}.{}) is one of q35's built-in functions, which "
                                          "QEMU's IOMMU translates: it cannot be absent against QEMU (--endpoints)",
                                          id, slot, id & 7));
        if (!exists || built_in(id))
            continue;
        if (slot == kHostBridgeSlot || slot == kIch9Slot)
            return unexpected(fmt::format("endpoint {:#x} (00:{:02x}.{}) shares a slot with q35's built-in "
                                          "functions; the QEMU peer cannot place a device there",
                                          id, slot, id & 7));
        present[slot].push_back(id & 7);
    }
    unsigned iommu_slot = 1;
    while (iommu_slot < kIch9Slot && used_slots.count(iommu_slot) != 0)
        ++iommu_slot;
    if (iommu_slot == kIch9Slot)
        return unexpected(std::string("the script names an endpoint in every slot of the root bus: none is left for the "
                                      "virtio-iommu-pci"));
    iommu_devfn = static_cast<uint8_t>(iommu_slot << 3);

    std::string iommu = fmt::format("virtio-iommu-pci,addr={:02x}.0,boot-bypass={}", iommu_slot,
                                    config.boot_bypass ? "on" : "off");
    if (config.withheld & virtio::feature(virtio::kFIndirectDesc))
        iommu += ",indirect_desc=off";
    if (config.withheld & virtio::feature(virtio::kFEventIdx))
        iommu += ",event_idx=off";
    if (config.packed)
        iommu += ",packed=on";
    std::vector<std::string> devices{iommu};
    for (const auto& [slot, functions] : present)
        for (const unsigned f : functions)
            devices.push_back(fmt::format("pci-testdev,addr={:02x}.{}{}", slot, f,
                                          f == 0 && functions.size() > 1 ? ",multifunction=on" : ""));
    return devices;
}

struct QemuTarget::Parts {
    std::unique_ptr<qemu::QemuProcess> qemu;
    std::unique_ptr<qemu::QtestPciBus> bus;
    std::unique_ptr<qemu::QtestPciFunction> function;
    boost::asio::io_context io;
    std::unique_ptr<qemu::QtestWaitForEvent> cpu;
    guest::mm::PhysAllocator alloc{GuestAddr(kDriverMemoryBase), kRamBytes - kDriverMemoryBase};
    std::unique_ptr<guest::virtio_drivers::VirtioPciModernDriver> driver;
    std::unique_ptr<guest::virtio_iommu::IommuRequestClient> client;
};

QemuTarget::QemuTarget(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
QemuTarget::~QemuTarget() = default;

Expected<std::unique_ptr<QemuTarget>, QemuTargetError>
QemuTarget::start(const std::string& binary, const vi::IommuConfig& config, const std::set<uint32_t>& named,
                  std::vector<std::string> extra_args)
{
    uint8_t iommu_devfn = 0;
    auto devices = qemu_devices(config, named, iommu_devfn);
    if (!devices)
        return unexpected(QemuTargetError{QemuTargetError::Kind::kNotExpressible, devices.error()});
    qemu::QemuConfig qc;
    qc.binary = binary;
    qc.ram_bytes = kRamBytes;
    qc.devices = std::move(*devices);
    qc.extra_args = std::move(extra_args);
    auto process = qemu::QemuProcess::start(qc);
    if (!process)
        return unexpected(QemuTargetError{QemuTargetError::Kind::kQemuFailed, process.error()});

    auto parts = std::make_unique<Parts>();
    parts->qemu = std::move(*process);
    parts->bus = std::make_unique<qemu::QtestPciBus>(parts->qemu->qtest());
    auto function = parts->bus->enable(PciAddress(0, 0, iommu_devfn));
    if (!function)
        return unexpected(QemuTargetError{QemuTargetError::Kind::kQemuFailed,
                                          "QEMU's virtio-iommu-pci: " + function.error() + "\n" +
                                              parts->qemu->diagnostics()});
    parts->function = std::move(*function);
    parts->cpu = std::make_unique<qemu::QtestWaitForEvent>(parts->qemu->qtest());
    // The features Linux 6.12's virtio_pci takes from QEMU 7.2 (RING_RESET since 04ca0b0b16f1, v6.0).
    parts->driver = std::make_unique<guest::virtio_drivers::VirtioPciModernDriver>(
        guest::virtio_drivers::PciDeviceHandle{*parts->function, parts->qemu->memory(), parts->alloc,
                                               parts->io.get_executor(), *parts->cpu},
        guest::virtio_drivers::VirtioPciBehaviour{.ring_reset = true, .ring = {}});
    parts->client = std::make_unique<guest::virtio_iommu::IommuRequestClient>(*parts->driver);
    return std::unique_ptr<QemuTarget>(new QemuTarget(std::move(parts)));
}

guest::virtio_iommu::IommuRequestClient& QemuTarget::client()
{
    return *parts_->client;
}

DmaResult QemuTarget::dma(const DmaOp&)
{
    return {DmaResult::Kind::kNotComparable, 0,
            "QEMU's endpoints here are pci-testdev functions, whose DMA a script cannot start"};
}

std::string QemuTarget::diagnostics()
{
    return parts_->qemu->diagnostics();
}

std::optional<std::string> QemuTarget::failure()
{
    return parts_->qemu->qtest().failure();
}

qemu::QemuProcess& QemuTarget::process()
{
    return *parts_->qemu;
}

} // namespace viommu::system::replay
