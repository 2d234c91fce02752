// One virtio-pci function on a board: the device behind a PciTransport, its BARs placed as firmware
// places them (each naturally aligned, from a base address), memory space that sends an access at a
// BAR's address to that BAR, its INTx line, and an MSI domain that turns the function's MSI-X writes
// into the handlers the guest asked for. It is what a guest driver sees of the function
// (base/pci_function.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "base/bus.h"
#include "base/pci_function.h"
#include "virtio/device_base.h"
#include "virtio/pci_transport.h"

namespace viommu::system::machine {

class PciSlot final : public PciFunction, private MsiSink, private MmioRegion {
public:
    // x86's MSI window (the LAPIC's, 0xfee00000): a message's data is its vector.
    static constexpr uint64_t kMsiAddress = 0xfee0'0000;
    static constexpr uint32_t kFirstMsiVector = 0x30;
    static constexpr uint32_t kLastMsiVector = 0xef;

    // Plugs `device` behind a virtio-pci transport and assigns its BARs from bar_base up.
    PciSlot(virtio::DeviceBase& device, boost::asio::io_context::executor_type executor,
            const virtio::PciFunctionIdentity& identity, uint64_t bar_base);
    PciSlot(const PciSlot&) = delete;
    PciSlot& operator=(const PciSlot&) = delete;

    virtio::PciTransport& transport() { return transport_; }

    // PciFunction
    uint32_t config_read(uint32_t offset, unsigned size) override { return transport_.config_read(offset, size); }
    void config_write(uint32_t offset, unsigned size, uint32_t value) override
    {
        transport_.config_write(offset, size, value);
    }
    MmioRegion& memory_space() override { return *this; }
    IrqWire& intx() override { return intx_; }
    std::optional<MsiMessage> alloc_msi(std::function<void()> handler) override;
    void free_msi() override { msi_handlers_.clear(); }

private:
    void assign_bars(uint64_t base);
    // MmioRegion: memory space. An address no BAR decodes reads all ones (a master abort).
    uint64_t read(uint64_t address, unsigned size) override;
    void write(uint64_t address, unsigned size, uint64_t value) override;
    MmioRegion* decode(uint64_t address, unsigned size, uint64_t& offset);
    // MsiSink: a message nobody asked for is dropped, as an unprogrammed vector would be.
    void write(uint64_t address, uint32_t data) override;

    IrqWire intx_;
    virtio::PciTransport transport_;
    std::map<uint32_t, std::function<void()>> msi_handlers_;
};

} // namespace viommu::system::machine
