// A guest machine: RAM, the executor everything runs on, and virtio devices behind virtio-mmio windows
// with their interrupt lines or behind virtio-pci functions. It assembles hardware and the guest's view of it; drivers reach devices
// only through the handles it gives out (a window, the RAM, a line and the CPU's wait).
//
// One machine runs on one io_context, so a guest is deterministic whatever else runs beside it (the
// batch boot gives each guest its own machine on a thread pool).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/bus.h"
#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio-drivers/mmio_driver.h"
#include "guest-model/virtio-drivers/pci_modern_driver.h"
#include "system/machine/pci_slot.h"
#include "virtio/device_base.h"
#include "virtio/guest_memory.h"
#include "virtio/mmio_transport.h"

namespace viommu::system::machine {

struct MachineConfig {
    uint64_t ram_base = 0x4000'0000; // where arm64 "virt" puts RAM; x86 puts it at 0, which is fine too
    uint64_t ram_size = 256ull << 20;
};

class Machine final : public WaitForEvent {
public:
    struct Slot {
        uint64_t mmio_base;
        std::unique_ptr<virtio::DeviceBase> device;
        IrqWire irq;
        std::unique_ptr<virtio::MmioTransport> transport;
    };

    // Throws std::runtime_error when the RAM cannot be mapped (a host-side failure).
    explicit Machine(const MachineConfig& config = {});
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    // Plugs a device into the next virtio-mmio window (QEMU's virt machine stacks them 0x200 apart).
    template <class Device, class... Args>
    Device& add_device(Args&&... args)
    {
        auto device = std::make_unique<Device>(memory_, std::forward<Args>(args)...);
        Device& ref = *device;
        plug(std::move(device));
        return ref;
    }

    // Plugs a device into the next PCI function, behind virtio-pci, its BARs assigned as firmware does.
    template <class Device, class... Args>
    Device& add_pci_device(const virtio::PciFunctionIdentity& identity, Args&&... args)
    {
        auto device = std::make_unique<Device>(memory_, std::forward<Args>(args)...);
        Device& ref = *device;
        plug_pci(std::move(device), identity);
        return ref;
    }
    // What a guest driver gets of the i-th PCI function.
    guest::virtio_drivers::PciDeviceHandle pci_handle(std::size_t i);

    Slot& slot(std::size_t i) { return *slots_.at(i); }
    // What a guest driver gets of the device in slot i.
    guest::virtio_drivers::MmioDeviceHandle handle(std::size_t i);
    std::size_t slots() const { return slots_.size(); }

    virtio::GuestMemory& memory() { return memory_; }
    guest::mm::PhysAllocator& allocator() { return allocator_; }
    boost::asio::io_context& io() { return io_; }

    // Runs everything that is ready (device work, interrupts) until nothing is; returns handlers run.
    std::size_t run();
    // WaitForEvent: a guest CPU that waits lets everything ready run.
    bool wait() override { return run() != 0; }

private:
    void plug(std::unique_ptr<virtio::DeviceBase> device);
    void plug_pci(std::unique_ptr<virtio::DeviceBase> device, const virtio::PciFunctionIdentity& identity);

    struct PciDevice {
        std::unique_ptr<virtio::DeviceBase> device;
        std::unique_ptr<PciSlot> slot;
    };

    virtio::GuestMemory memory_;
    guest::mm::PhysAllocator allocator_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<PciDevice> pci_devices_;
    // Declared last, destroyed first: work still posted when the machine goes away (a notification
    // nobody ran) is destroyed while the transports whose handler memory it lives in still exist.
    boost::asio::io_context io_;
};

} // namespace viommu::system::machine
