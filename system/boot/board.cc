#include "system/boot/board.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "hw/virtio-iommu/pci.h"
#include "system/boot/iommu_properties.h"
#include "system/boot/virtio_roles.h"

namespace viommu::system::boot {

namespace {

using guest::pci::qemu_requester_id;

// Drivers of emulated functions that never bus-master (the q35 chipset's LPC bridge and SMBus
// controller, a watchdog, a framebuffer in BAR memory): the model makes them do no DMA.
bool driver_does_dma(const std::string& driver)
{
    static const std::set<std::string, std::less<>> kNoDma = {"lpc_ich", "i801_smbus", "i6300ESB timer", "bochs-drm",
                                                              "bochs", "agpgart-intel"};
    return !driver.empty() && !kNoDma.count(driver);
}

// The MSI doorbell QEMU's virt machine reports as a reserved MSI region of every endpoint behind its
// virtio-iommu (virt_machine_device_pre_plug_cb() in QEMU 7.2's hw/arm/virt.c, the "reserved-regions[0]"
// property): with an ITS its GITS_TRANSLATER page, the second 64 KiB of the ITS frame at 0x08080000;
// with GICv2m its MSI_SETSPI_NS page at 0x08020000 (base_memmap[VIRT_GIC_ITS], [VIRT_GIC_V2M]).
std::optional<hw::virtio_iommu::ReservedRegion> virt_msi_doorbell(MsiController msi)
{
    using hw::virtio_iommu::IovaRange;
    using hw::virtio_iommu::ResvMemSubtype;
    switch (msi) {
    case MsiController::kGicV3Its:
        return hw::virtio_iommu::ReservedRegion{{}, IovaRange{Iova(0x08090000), Iova(0x0809ffff)}, ResvMemSubtype::kMsi};
    case MsiController::kGicV2m:
        return hw::virtio_iommu::ReservedRegion{{}, IovaRange{Iova(0x08020000), Iova(0x08020fff)}, ResvMemSubtype::kMsi};
    case MsiController::kX86Apic:
        break;
    }
    return std::nullopt;
}

// Who DMAs and how: a NIC fills receive buffers; a disk and an assigned function read and write.
std::optional<hw::endpoints::DmaEngine::Kind> dma_kind(const FunctionDesc& d)
{
    if (const VirtioRole* virtio = virtio_role(d.role))
        return virtio->dma;
    if (d.role == Role::kEmulated && driver_does_dma(d.guest_driver))
        return hw::endpoints::DmaEngine::Kind::kNetRx;
    if (d.role == Role::kHostdev)
        return hw::endpoints::DmaEngine::Kind::kAssigned;
    return std::nullopt;
}

} // namespace

Board::Board(const GuestSpec& spec, machine::Machine& machine, const hw::virtio_iommu::DeviceBehaviour& device)
    : spec_(spec), machine_(machine)
{
    add_functions();
    add_iommu(device);
    for (Function& f : functions_)
        add_dma_engine(f);
}

void Board::add_functions()
{
    std::vector<Function*> by_index;
    for (std::size_t i = 0; i < spec_.functions.size(); ++i) {
        const FunctionDesc& d = spec_.functions[i];
        if (d.parent >= static_cast<int>(i))
            throw std::invalid_argument(fmt::format("function {} ({}) comes before its bridge", i, d.pci.label));
        guest::pci::Function* parent = d.parent < 0 ? nullptr : by_index[static_cast<std::size_t>(d.parent)]->pci;
        if (parent && !guest::pci::is_bridge(parent->kind))
            throw std::invalid_argument(fmt::format("function {} ({}) sits below a function that is not a bridge", i,
                                                    d.pci.label));
        Function& f = functions_.emplace_back();
        f.desc = &d;
        f.pci = topology_.add(d.pci, parent);
        by_index.push_back(&f);
    }
    topology_.assign_bus_numbers();
}

void Board::add_iommu(const hw::virtio_iommu::DeviceBehaviour& device)
{
    if (!spec_.iommu.present)
        return;
    const auto idx = static_cast<std::size_t>(spec_.iommu.function);
    if (spec_.iommu.function < 0 || idx >= functions_.size() ||
        std::next(functions_.begin(), spec_.iommu.function)->desc->role != Role::kVirtioIommu)
        throw std::invalid_argument("the IOMMU's function is not a virtio-iommu function");
    iommu_fn_ = &*std::next(functions_.begin(), spec_.iommu.function);
    // QEMU's virtio-iommu knows an endpoint once the device behind that ID exists: one per
    // requester ID QEMU uses, i.e. per alias owner (pci_device_get_iommu_bus_devfn()).
    hw::virtio_iommu::IommuConfig config;
    config.endpoints.clear();
    std::set<uint32_t> ids;
    for (const Function& f : functions_)
        if (&f != iommu_fn_)
            ids.insert(qemu_requester_id(*f.pci));
    for (uint32_t id : ids)
        config.endpoints.push_back({hw::virtio_iommu::EndpointId(id), hw::virtio_iommu::EndpointId(id)});
    apply_iommu_properties(spec_.iommu, config);
    config.withheld = spec_.iommu.withheld_features;
    config.use_profile(device);
    // QEMU's pc machines report the x86 MSI window as a reserved MSI region of every endpoint; its virt
    // machine, the page of the MSI controller's doorbell.
    if (spec_.arch == Arch::kX86_64)
        config.reserved.push_back(hw::virtio_iommu::x86_msi_region());
    else if (const std::optional<hw::virtio_iommu::ReservedRegion> doorbell = virt_msi_doorbell(spec_.msi))
        config.reserved.push_back(*doorbell);
    // QEMU 7.2's virtio-iommu-pci has no MSI-X vectors: its interrupt is INTx.
    iommu_ = &machine_.add_pci_device<hw::virtio_iommu::VirtioIommu>(hw::virtio_iommu::pci_identity(), std::move(config));
    // VFIO's realize of each hostdev hands the virtio-iommu its host IOMMU's constraints, after the
    // virtio-iommu's own realize and before the machine is ready; then the granule freezes.
    for (const Function& f : functions_) {
        if (!f.desc->host_iommu)
            continue;
        const auto notes = iommu_->plug_host_device(hw::virtio_iommu::EndpointId(qemu_requester_id(*f.pci)),
                                                    *f.desc->host_iommu);
        if (!notes)
            throw std::invalid_argument(fmt::format("{}: {}", f.desc->source, notes.error()));
        keep_host_iommu_notes(*f.desc, *notes);
    }
    iommu_->machine_ready();
}

void Board::keep_host_iommu_notes(const FunctionDesc& d, const std::vector<std::string>& notes)
{
    for (const std::string& note : notes)
        host_iommu_notes_.push_back(fmt::format("{}: {}", d.source, note));
}

Expected<std::vector<std::string>, std::string>
Board::admit_hotplugged_hostdev(uint32_t requester_id, const hw::virtio_iommu::HostIommuConstraints& host)
{
    if (!iommu_)
        return std::vector<std::string>{};
    return iommu_->plug_host_device(hw::virtio_iommu::EndpointId(requester_id), host);
}

void Board::add_dma_engine(Function& f)
{
    const std::optional<hw::endpoints::DmaEngine::Kind> kind = dma_kind(*f.desc);
    if (!kind)
        return;
    // A virtio device without VIRTIO_F_ACCESS_PLATFORM reaches guest memory directly in QEMU, IOMMU
    // or not; every other function's DMA goes through the IOMMU under its QEMU requester ID.
    const bool translated = iommu_ && (!virtio_role(f.desc->role) || f.desc->iommu_platform);
    f.irq = std::make_unique<IrqWire>();
    f.engine = std::make_unique<hw::endpoints::DmaEngine>(
        *kind, hw::endpoints::DmaPort(machine_.memory(), translated ? iommu_ : nullptr, qemu_requester_id(*f.pci)), *f.irq);
}

Expected<Function*, std::string> Board::hot_add(const FunctionDesc& desc, Function& port)
{
    // A PCIe root port has one slot (pcie_cap_slot_pre_plug_cb() and do_pci_register_device() of
    // hw/pci/pcie.c and pci.c): device 0 only, and only while it is empty.
    if (port.pci->kind != guest::pci::Kind::kRootPort)
        return unexpected(fmt::format("Bus '{}' is not the bus of a pcie-root-port; viommu models hot-plug into "
                                      "root ports only", port.desc->qdev_id));
    if (desc.pci.slot != 0)
        return unexpected(fmt::format("PCI: slot {} is not valid for {}, parent device only allows plugging into "
                                      "slot 0.",
                                      desc.pci.slot, desc.pci.label));
    if (!port.pci->children.empty()) {
        const auto in_use = std::find_if(functions_.begin(), functions_.end(),
                                         [&](const Function& f) { return f.pci == port.pci->children.front(); });
        return unexpected(fmt::format("PCI: slot 0 function 0 not available for {}, in use by {},id={}", desc.pci.label,
                                      port.pci->children.front()->label,
                                      in_use == functions_.end() ? "" : in_use->desc->qdev_id));
    }
    const FunctionDesc& d = hotplugged_.emplace_back(desc);
    Function& f = functions_.emplace_back();
    f.desc = &d;
    // The function appears on the port's secondary bus, whose number the firmware gave at boot.
    f.pci = topology_.add(d.pci, port.pci);
    f.pci->bus = port.pci->secondary;
    if (iommu_ && d.host_iommu) {
        // VFIO's realize hands the virtio-iommu the host IOMMU's constraints; a refusal fails the
        // device_add and the function never appears (docs/boot.md, "Hot plug").
        auto notes = admit_hotplugged_hostdev(qemu_requester_id(*f.pci), *d.host_iommu);
        if (!notes) {
            hot_remove(f);
            return unexpected(notes.error());
        }
        keep_host_iommu_notes(d, *notes);
    } else if (iommu_) {
        iommu_->add_endpoint(hw::virtio_iommu::EndpointId(qemu_requester_id(*f.pci)));
    }
    add_dma_engine(f);
    return &f;
}

void Board::hot_remove(Function& f)
{
    const FunctionDesc* desc = f.desc;
    if (iommu_ && desc->host_iommu)
        iommu_->unplug_host_device(hw::virtio_iommu::EndpointId(qemu_requester_id(*f.pci)));
    topology_.remove(f.pci);
    functions_.remove_if([&](const Function& x) { return &x == &f; });
    hotplugged_.remove_if([&](const FunctionDesc& x) { return &x == desc; });
}

DmaOutcome Board::fault_outcome(const Function& f, uint64_t address, std::string_view what) const
{
    DmaOutcome out{DmaResult::kFault,
                   fmt::format("{} at {:#x} (endpoint {:#06x})", what, address, qemu_requester_id(*f.pci)), ""};
    // The reason the device gave (VIRTIO_IOMMU_FAULT_R_*): QEMU 7.2's virtio_iommu_translate() reports an
    // endpoint it has no state for, one never attached, as R_UNKNOWN ("sid=%d is not known!!").
    if (const auto& fault = iommu_ ? iommu_->last_fault() : std::nullopt) {
        static constexpr const char* kReason[] = {"UNKNOWN", "DOMAIN", "MAPPING"};
        out.reason = fault->reason < std::size(kReason) ? kReason[fault->reason] : fmt::format("{}", fault->reason);
    }
    return out;
}

std::optional<uint64_t> Board::run_engine(Function& f, uint64_t iova, uint64_t len, uint32_t seed, uint32_t command)
{
    // The driver programs its device (registers only) and the device does the transfer.
    hw::endpoints::DmaEngine& e = *f.engine;
    e.write(hw::endpoints::DmaEngine::kAddrLow, 4, iova & 0xffffffff);
    e.write(hw::endpoints::DmaEngine::kAddrHigh, 4, iova >> 32);
    e.write(hw::endpoints::DmaEngine::kLength, 4, len);
    e.write(hw::endpoints::DmaEngine::kSeed, 4, seed);
    e.write(hw::endpoints::DmaEngine::kCommand, 4, command);
    machine_.run(); // fault events reach the guest's virtio-iommu driver
    const auto status = e.read(hw::endpoints::DmaEngine::kStatus, 4);
    e.write(hw::endpoints::DmaEngine::kIrqAck, 4, 1);
    if (status != hw::endpoints::DmaEngine::kStatusFault)
        return std::nullopt;
    return e.read(hw::endpoints::DmaEngine::kFaultLow, 4) | e.read(hw::endpoints::DmaEngine::kFaultHigh, 4) << 32;
}

std::optional<DmaOutcome> Board::firmware_dma(Function& f)
{
    // The firmware's request sits in its virtqueue in guest RAM; the device's first access reads it:
    // 16 bytes, a virtio-blk request header (struct virtio_blk_outhdr), at a guest-physical address.
    constexpr uint64_t kHeader = 16;
    const uint64_t at = machine::MachineConfig{}.ram_base;
    if (!f.engine)
        return std::nullopt;
    const std::optional<uint64_t> fault = run_engine(f, at, kHeader, 0, hw::endpoints::DmaEngine::kCmdRead);
    if (!fault)
        return std::nullopt;
    return fault_outcome(f, *fault, "firmware read");
}

std::string Board::device_dma(Function& f, uint64_t iova, uint64_t phys, uint64_t len, uint32_t seed, DmaOutcome& out)
{
    hw::endpoints::DmaEngine& e = *f.engine;
    const std::optional<uint64_t> fault = run_engine(f, iova, len, seed, hw::endpoints::DmaEngine::kCmdWrite);
    const uint32_t ep = e.port().endpoint_id();
    if (fault) {
        out = fault_outcome(f, *fault, "fault");
        return out.detail;
    }
    std::vector<uint8_t> landed(len);
    if (!machine_.memory().read(GuestAddr(phys), landed)) {
        out = {DmaResult::kCorrupt, fmt::format("buffer {:#x} is outside guest RAM", phys), {}};
        return out.detail;
    }
    for (uint64_t i = 0; i < len; ++i) {
        if (landed[i] != hw::endpoints::DmaEngine::pattern(seed, i)) {
            out = {DmaResult::kCorrupt,
                   fmt::format("wrote at {:#x} but the bytes did not land at {:#x} (endpoint {:#06x})", iova, phys, ep), {}};
            return out.detail;
        }
    }
    // The device says which domain the endpoint is attached to (an explicit query, not its internals).
    const auto attached =
        e.port().behind_iommu() ? iommu_->attachment(hw::virtio_iommu::EndpointId(ep)) : std::nullopt;
    if (!e.port().behind_iommu())
        out = {DmaResult::kDirect, fmt::format("{:#x}, untranslated", phys), {}};
    else if (!attached)
        out = {DmaResult::kBypassed, fmt::format("{:#x}: endpoint {:#06x} is in no domain and bypasses", iova, ep), {}};
    else if (attached->bypass)
        out = {DmaResult::kIdentity, fmt::format("{:#x}: domain {} is a bypass domain", iova, attached->domain), {}};
    else
        out = {DmaResult::kTranslated, fmt::format("IOVA {:#x} -> {:#x} in domain {}", iova, phys, attached->domain), {}};
    return {};
}

} // namespace viommu::system::boot
