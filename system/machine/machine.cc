#include "system/machine/machine.h"

#include <stdexcept>

namespace viommu::system::machine {

namespace {
constexpr uint64_t kMmioBase = 0x0a00'0000; // QEMU virt's first virtio-mmio window
constexpr uint64_t kMmioStride = 0x200;
// Where firmware places virtio-pci BARs: q35's 32-bit PCI hole, one 64 KiB window per function.
constexpr uint64_t kPciBarBase = 0xfe00'0000;
constexpr uint64_t kPciBarStride = 0x1'0000;

virtio::GuestMemory make_ram(const MachineConfig& c)
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(c.ram_base), c.ram_size}});
    if (!mem)
        throw std::runtime_error(mem.error());
    return std::move(*mem);
}
} // namespace

Machine::Machine(const MachineConfig& config)
    : memory_(make_ram(config)), allocator_(GuestAddr(config.ram_base), config.ram_size)
{
}

void Machine::plug(std::unique_ptr<virtio::DeviceBase> device)
{
    auto slot = std::make_unique<Slot>();
    slot->mmio_base = kMmioBase + kMmioStride * slots_.size();
    slot->device = std::move(device);
    slot->transport = std::make_unique<virtio::MmioTransport>(*slot->device, io_.get_executor(), slot->irq);
    slots_.push_back(std::move(slot));
}

void Machine::plug_pci(std::unique_ptr<virtio::DeviceBase> device, const virtio::PciFunctionIdentity& identity)
{
    PciDevice d;
    d.device = std::move(device);
    d.slot = std::make_unique<PciSlot>(*d.device, io_.get_executor(), identity,
                                       kPciBarBase + kPciBarStride * pci_devices_.size());
    pci_devices_.push_back(std::move(d));
}

guest::virtio_drivers::PciDeviceHandle Machine::pci_handle(std::size_t i)
{
    return {*pci_devices_.at(i).slot, memory_, allocator_, io_.get_executor(), *this};
}

guest::virtio_drivers::MmioDeviceHandle Machine::handle(std::size_t i)
{
    Slot& s = slot(i);
    return {*s.transport, s.irq, memory_, allocator_, io_.get_executor(), *this};
}

std::size_t Machine::run()
{
    const std::size_t n = io_.poll();
    io_.restart();
    return n;
}

} // namespace viommu::system::machine
