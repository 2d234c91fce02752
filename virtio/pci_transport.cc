#include "virtio/pci_transport.h"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "virtio/trace_events.h"

namespace viommu::virtio {

using namespace pci;

namespace {

bool access_size_ok(unsigned size) { return size == 1 || size == 2 || size == 4 || size == 8; }

uint64_t all_ones(unsigned size) { return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1; }

bool overlaps(uint32_t a, unsigned a_len, uint32_t b, unsigned b_len) { return a < b + b_len && b < a + a_len; }

} // namespace

PciTransport::PciTransport(DeviceBase& device, boost::asio::io_context::executor_type executor,
                           const PciFunctionIdentity& identity, IrqLine& intx, MsiSink& msi)
    : device_(device), notifications_(device, std::move(executor)), identity_(identity), intx_(intx),
      common_(device, identity.msix_vectors,
              [this](uint32_t offset, const char* what) { guest_error("common configuration", offset, what); })
{
    if (identity.device_id != kModernDeviceIdBase + device.device_id())
        throw std::invalid_argument(fmt::format("PCI device ID {:#x} is not 0x1040 + virtio device ID {}",
                                                identity.device_id, device.device_id()));
    if (identity.msix_vectors)
        msix_.emplace(identity.msix_vectors, msi);
    build_config_space();
    device_.set_interrupt_listener([this](uint32_t) { update_intx(); });
    device_.set_interrupt_source_listener([this](std::optional<unsigned> queue) { on_interrupt(queue); });
}

PciTransport::~PciTransport()
{
    device_.set_interrupt_listener(nullptr);
    device_.set_interrupt_source_listener(nullptr);
}

void PciTransport::build_config_space()
{
    config_ = PciConfigSpace();
    config_.set16(kVendorId, kVirtioVendorId);
    config_.set16(kDeviceId, identity_.device_id);
    // §4.1.2.1: "Non-transitional devices SHOULD have a PCI Revision ID of 1 or higher"; QEMU sets 1
    // for a modern-only function (pci_config_set_revision()).
    config_.set8(kRevisionId, 1);
    config_.set8(kClassProg, static_cast<uint8_t>(identity_.class_code));
    config_.set16(kClassProg + 1, static_cast<uint16_t>(identity_.class_code >> 8));
    config_.set8(kHeaderType, 0); // a type 0 header, single function
    config_.set16(kSubsystemVendorId, identity_.subsystem_vendor_id);
    config_.set16(kSubsystemId, identity_.subsystem_id);
    config_.set8(kInterruptPin, 1); // INTA, as QEMU's virtio_pci_device_plugged()

    if (msix_)
        config_.add_memory_bar(kMsixBar, msix_->bar_size(), false, false);
    config_.add_memory_bar(kModernBar, kModernBarSize, true, true);

    // virtio_pci_modern_region_map(), in QEMU's order.
    const auto add_virtio_cap = [this](uint8_t type, uint32_t offset, uint8_t length) {
        const uint8_t at = config_.add_capability(kCapIdVendor, length);
        config_.set8(at + kCapLen, length);
        config_.set8(at + kCapCfgType, type);
        config_.set8(at + kCapBar, kModernBar);
        config_.set32(at + kCapOffset, offset);
        config_.set32(at + kCapLength, kStructureSize);
        return at;
    };
    add_virtio_cap(kCapCommonCfg, kCommonCfgOffset, kCapSize);
    add_virtio_cap(kCapIsrCfg, kIsrOffset, kCapSize);
    add_virtio_cap(kCapDeviceCfg, kDeviceCfgOffset, kCapSize);
    const uint8_t notify = add_virtio_cap(kCapNotifyCfg, kNotifyOffset, kNotifyCapSize);
    config_.set32(notify + kCapNotifyOffMultiplier, kNotifyOffMultiplier);
    // The PCI configuration access capability: bar, offset, length and pci_cfg_data are the driver's.
    cfg_cap_ = config_.add_capability(kCapIdVendor, kPciCfgCapSize);
    config_.set8(cfg_cap_ + kCapLen, kPciCfgCapSize);
    config_.set8(cfg_cap_ + kCapCfgType, kCapPciCfg);
    config_.set_writable(cfg_cap_ + kCapBar, 1);
    config_.set_writable(cfg_cap_ + kCapOffset, 4);
    config_.set_writable(cfg_cap_ + kCapLength, 4);
    config_.set_writable(cfg_cap_ + kPciCfgData, 4);

    if (msix_) {
        msix_cap_ = config_.add_capability(kCapIdMsix, kMsixCapLength);
        config_.set16(msix_cap_ + kMsixFlags, static_cast<uint16_t>(msix_->vectors() - 1));
        config_.set_writable(msix_cap_ + kMsixFlags + 1, 1, static_cast<uint8_t>((kMsixFlagsEnable | kMsixFlagsMaskAll) >> 8));
        config_.set32(msix_cap_ + kMsixTable, msix_->table_offset() | kMsixBar);
        config_.set32(msix_cap_ + kMsixPba, msix_->pba_offset() | kMsixBar);
    }
}

void PciTransport::reset()
{
    device_.reset();
    common_.reset();
    if (msix_) {
        msix_->reset();
        msix_->set_bus_master(false);
    }
    build_config_space();
    update_intx();
}

void PciTransport::guest_error(std::string_view where, uint64_t offset, const char* what)
{
    const std::string place(where);
    trace_virtio_pci_guest_error(place.c_str(), offset, what);
    device_.log_guest_error(fmt::format("guest error: virtio-pci {} at {:#x}: {}", where, offset, what));
}

// --- Configuration space ---

uint32_t PciTransport::config_read(uint32_t offset, unsigned size)
{
    // PCI 3.0 §3.2.2.3.2: a configuration access is one DWORD or part of one.
    if ((size != 1 && size != 2 && size != 4) || offset % size || offset >= kConfigSpaceSize) {
        guest_error("configuration space", offset, "read that is not 1, 2 or 4 aligned bytes below 256");
        return static_cast<uint32_t>(all_ones(size > 4 ? 4 : size));
    }
    // §4.1.4.9.1: reading pci_cfg_data first reads the BAR bytes it names into it.
    if (touches_cfg_data(offset, size)) {
        unsigned length = 0;
        if (const auto target = cfg_window_target(length, false)) {
            const uint64_t bytes = modern_read(*target, length);
            for (unsigned i = 0; i < length; ++i)
                config_.set8(cfg_cap_ + kPciCfgData + i, static_cast<uint8_t>(bytes >> (8 * i)));
        }
    }
    const uint32_t value = config_.read(offset, size);
    trace_virtio_pci_config_read(offset, size, value);
    return value;
}

void PciTransport::config_write(uint32_t offset, unsigned size, uint32_t value)
{
    trace_virtio_pci_config_write(offset, size, value);
    if ((size != 1 && size != 2 && size != 4) || offset % size || offset >= kConfigSpaceSize)
        return guest_error("configuration space", offset, "write that is not 1, 2 or 4 aligned bytes below 256");
    config_.write(offset, size, value);
    after_config_write(offset, size);
}

void PciTransport::after_config_write(uint32_t offset, unsigned size)
{
    if (overlaps(offset, size, kCommand, 2)) {
        if (msix_)
            msix_->set_bus_master(bus_master());
        update_intx();
    }
    if (msix_ && overlaps(offset, size, msix_cap_ + kMsixFlags, 2)) {
        const uint16_t flags = config_.get16(msix_cap_ + kMsixFlags);
        msix_->set_control(flags & kMsixFlagsEnable, flags & kMsixFlagsMaskAll);
        update_intx();
    }
    // §4.1.4.9.1: writing pci_cfg_data writes its first cap.length bytes to the BAR.
    if (touches_cfg_data(offset, size)) {
        unsigned length = 0;
        if (const auto target = cfg_window_target(length, true))
            modern_write(*target, length, config_.read(cfg_cap_ + kPciCfgData, length));
    }
}

bool PciTransport::touches_cfg_data(uint32_t offset, unsigned size) const
{
    return overlaps(offset, size, cfg_cap_ + kPciCfgData, 4);
}

std::optional<uint32_t> PciTransport::cfg_window_target(unsigned& length, bool writing)
{
    const uint8_t bar = config_.get8(cfg_cap_ + kCapBar);
    const uint32_t offset = config_.get32(cfg_cap_ + kCapOffset);
    const uint32_t len = config_.get32(cfg_cap_ + kCapLength);
    // §4.1.4.9: the driver names cap.length (1, 2 or 4) bytes at an offset that is a multiple of it,
    // within a structure another virtio capability describes: all of them are in the modern BAR.
    // QEMU's virtio_write_config() also ignores other lengths and offsets outside the structures.
    // A read of a window that names nothing is no error: a tool dumping configuration space (lspci -xxx)
    // reads pci_cfg_data too; it reads back what was last there.
    if (bar != kModernBar || (len != 1 && len != 2 && len != 4) || offset % len || offset >= kModernBarSize) {
        if (writing)
            guest_error("configuration access capability", offset, "cap.bar, cap.offset and cap.length name no virtio structure");
        return std::nullopt;
    }
    length = len;
    return offset;
}

// --- BARs ---

MmioRegion* PciTransport::bar(unsigned index)
{
    if (index == kModernBar)
        return &modern_bar_;
    if (index == kMsixBar && msix_)
        return &msix_bar_;
    return nullptr;
}

std::optional<uint64_t> PciTransport::bar_address(unsigned index) const
{
    if (!(config_.command() & kCommandMemory))
        return std::nullopt;
    return config_.bar_address(index);
}

uint64_t PciTransport::Bar::read(uint64_t offset, unsigned size)
{
    PciTransport& t = transport_;
    uint64_t value = all_ones(size);
    if (!(t.config_.command() & kCommandMemory))
        t.guest_error("BAR", offset, "read while memory decoding is off");
    else
        value = index_ == kModernBar ? t.modern_read(offset, size) : t.msix_read(offset, size);
    trace_virtio_pci_bar_read(index_, offset, size, value);
    return value;
}

void PciTransport::Bar::write(uint64_t offset, unsigned size, uint64_t value)
{
    PciTransport& t = transport_;
    trace_virtio_pci_bar_write(index_, offset, size, value);
    if (!(t.config_.command() & kCommandMemory))
        return t.guest_error("BAR", offset, "write while memory decoding is off");
    if (index_ == kModernBar)
        t.modern_write(offset, size, value);
    else
        t.msix_write(offset, size, value);
}

uint64_t PciTransport::modern_read(uint64_t offset, unsigned size)
{
    if (!access_size_ok(size) || offset >= kModernBarSize || (offset % kStructureSize) + size > kStructureSize) {
        guest_error("modern BAR", offset, "read that is not 1, 2, 4 or 8 bytes inside one structure");
        return 0;
    }
    const auto within = static_cast<uint32_t>(offset % kStructureSize);
    switch (offset / kStructureSize * kStructureSize) {
    case kCommonCfgOffset: return common_.read(within, size);
    case kIsrOffset: {
        // §4.1.4.5.1: reading the ISR status resets it; QEMU's virtio_pci_isr_read() answers any read of
        // the structure so, and lowers INTx.
        const uint32_t isr = device_.interrupt_status();
        device_.ack_interrupt(isr);
        return isr;
    }
    case kDeviceCfgOffset: return device_.config_read(within, size);
    default: return 0; // notifications: QEMU's virtio_pci_notify_read()
    }
}

void PciTransport::modern_write(uint64_t offset, unsigned size, uint64_t value)
{
    if (!access_size_ok(size) || offset >= kModernBarSize || (offset % kStructureSize) + size > kStructureSize)
        return guest_error("modern BAR", offset, "write that is not 1, 2, 4 or 8 bytes inside one structure");
    const auto within = static_cast<uint32_t>(offset % kStructureSize);
    switch (offset / kStructureSize * kStructureSize) {
    case kCommonCfgOffset: return common_.write(within, size, value);
    case kIsrOffset: return guest_error("ISR", within, "write to the read-only ISR status");
    case kDeviceCfgOffset: return device_.config_write(within, size, value);
    default: break;
    }
    // §4.1.4.4: queue q's notification address is notify_off_multiplier * queue_notify_off = 4q. QEMU's
    // virtio_pci_notify_write() takes the queue from the address, not the value written.
    //
    // A function whose Bus Master Enable is clear may not DMA (PCI 3.0 §6.2.2), so it does not process
    // the queue. QEMU's virtio_write_config() goes further when the driver clears the bit: it disables
    // the device and drops DRIVER_OK from its status; here the status stays as the driver set it (only
    // a reset clears its bits, §2.1) and the notification is ignored.
    if (!bus_master())
        return guest_error("notify", within, "notification while the function may not master the bus (no DMA)");
    notifications_.post(within / kNotifyOffMultiplier);
}

uint64_t PciTransport::msix_read(uint64_t offset, unsigned size)
{
    // PCI 3.0 §6.8.2: table and PBA are read and written in aligned DWORDs or QWORDs (QEMU's
    // msix_table_mmio_ops accept 4 and 8 bytes, aligned).
    if ((size != 4 && size != 8) || offset % size || offset >= msix_->bar_size()) {
        guest_error("MSI-X BAR", offset, "read that is not an aligned DWORD or QWORD");
        return 0;
    }
    uint64_t value = 0;
    for (unsigned part = 0; part < size / 4; ++part) {
        const auto dword = msix_->read32(static_cast<uint32_t>(offset + 4 * part));
        value |= uint64_t{dword.value_or(0)} << (32 * part);
    }
    return value;
}

void PciTransport::msix_write(uint64_t offset, unsigned size, uint64_t value)
{
    if ((size != 4 && size != 8) || offset % size || offset >= msix_->bar_size())
        return guest_error("MSI-X BAR", offset, "write that is not an aligned DWORD or QWORD");
    for (unsigned part = 0; part < size / 4; ++part)
        if (!msix_->write32(static_cast<uint32_t>(offset + 4 * part), static_cast<uint32_t>(value >> (32 * part))))
            guest_error("MSI-X BAR", offset + 4 * part, "write outside the MSI-X table (the PBA is read-only)");
}

// --- Interrupts ---

void PciTransport::on_interrupt(std::optional<unsigned> queue)
{
    // §4.1.5.1.2: with MSI-X enabled an event goes to its vector (none: no interrupt); the ISR bits are
    // still set, as QEMU's virtio_notify() does, but INTx stays low.
    if (msix_ && msix_->enabled()) {
        const uint16_t vector = common_.vector(queue);
        if (vector != kNoVector)
            msix_->notify(vector);
    }
}

void PciTransport::update_intx()
{
    // INTx is the interrupt while MSI-X is off (§4.1.5.3, QEMU's virtio_pci_notify()): asserted while
    // the ISR status is not 0. The status register's Interrupt Status shows it even while the command
    // register's Interrupt Disable keeps the line low (PCI 3.0 §6.2.2, §6.2.3).
    const bool pending = device_.interrupt_status() != 0 && !(msix_ && msix_->enabled());
    const uint16_t status = config_.get16(kStatus);
    config_.set16(kStatus, static_cast<uint16_t>(pending ? status | kStatusInterrupt : status & ~kStatusInterrupt));
    const bool level = pending && !(config_.command() & kCommandIntxDisable);
    if (level == intx_level_)
        return;
    intx_level_ = level;
    trace_virtio_pci_intx(level);
    intx_.set_level(level);
}

} // namespace viommu::virtio
