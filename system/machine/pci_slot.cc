#include "system/machine/pci_slot.h"

#include "virtio/wire/pci_regs.h"

namespace viommu::system::machine {

using namespace virtio::pci;

PciSlot::PciSlot(virtio::DeviceBase& device, boost::asio::io_context::executor_type executor,
                 const virtio::PciFunctionIdentity& identity, uint64_t bar_base)
    : transport_(device, executor, identity, intx_, *this)
{
    assign_bars(bar_base);
}

void PciSlot::assign_bars(uint64_t base)
{
    // Firmware (SeaBIOS's pci_bios_map_devices(), EDK II's PCI bus driver) gives each BAR an address
    // aligned to its size; this does it in BAR order from base.
    uint64_t next = base;
    for (unsigned i = 0; i < kBarCount; ++i) {
        const uint64_t size = transport_.bar_size(i);
        if (size == 0)
            continue;
        next = (next + size - 1) / size * size;
        const uint32_t at = kBar0 + 4 * i;
        const uint32_t flags = transport_.config_read(at, 4) & 0xf;
        transport_.config_write(at, 4, static_cast<uint32_t>(next) | flags);
        if ((flags & 0x6) == kBarMemType64) {
            transport_.config_write(at + 4, 4, static_cast<uint32_t>(next >> 32));
            ++i;
        }
        next += size;
    }
}

MmioRegion* PciSlot::decode(uint64_t address, unsigned size, uint64_t& offset)
{
    for (unsigned i = 0; i < kBarCount; ++i) {
        const auto base = transport_.bar_address(i);
        const uint64_t length = transport_.bar_size(i);
        if (!base || address < *base || address - *base >= length || size > length - (address - *base))
            continue;
        offset = address - *base;
        return transport_.bar(i);
    }
    return nullptr;
}

uint64_t PciSlot::read(uint64_t address, unsigned size)
{
    uint64_t offset = 0;
    if (MmioRegion* bar = decode(address, size, offset))
        return bar->read(offset, size);
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

void PciSlot::write(uint64_t address, unsigned size, uint64_t value)
{
    uint64_t offset = 0;
    if (MmioRegion* bar = decode(address, size, offset))
        bar->write(offset, size, value);
}

std::optional<MsiMessage> PciSlot::alloc_msi(std::function<void()> handler)
{
    for (uint32_t vector = kFirstMsiVector; vector <= kLastMsiVector; ++vector) {
        if (msi_handlers_.count(vector))
            continue;
        msi_handlers_.emplace(vector, std::move(handler));
        return MsiMessage{kMsiAddress, vector};
    }
    return std::nullopt;
}

void PciSlot::write(uint64_t address, uint32_t data)
{
    if (address != kMsiAddress)
        return;
    if (auto it = msi_handlers_.find(data); it != msi_handlers_.end())
        it->second();
}

} // namespace viommu::system::machine
