// An emulated PCI function that does DMA when its driver asks, through a small register window (the
// idea of QEMU's "edu" device). It stands in for two endpoints of the guests viommu boots:
//  - a NIC's receive path (kind kNetRx): the device writes a received frame into a buffer the driver
//    gave it, as a virtio-net device fills a receive buffer;
//  - a function assigned with VFIO (kind kAssigned): the device reads and writes guest buffers.
// Every access goes through its DmaPort, so through the virtio-iommu when it sits behind one.
//
// Registers (32-bit, little-endian): see the Reg enum. A command runs when CMD is written; STATUS and
// FAULT tell how it went, and a completion interrupt is raised.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bus.h"
#include "hw/endpoints/dma_port.h"

namespace viommu::hw::endpoints {

class DmaEngine final : public MmioRegion {
public:
    enum class Kind : uint32_t { kNetRx = 1, kAssigned = 2 };
    enum Reg : uint32_t {
        kId = 0x00,         // R: kMagic
        kKind = 0x04,       // R: Kind
        kAddrLow = 0x08,    // RW: IOVA of the buffer
        kAddrHigh = 0x0c,   // RW
        kLength = 0x10,     // RW: bytes, at most kMaxLength
        kSeed = 0x14,       // RW: first byte of the pattern a write command produces
        kCommand = 0x18,    // W: kCmdWrite (device -> memory) or kCmdRead (memory -> device)
        kStatus = 0x1c,     // R: kStatusOk, kStatusFault or kStatusBadCommand
        kFaultLow = 0x20,   // R: IOVA of the first access that failed
        kFaultHigh = 0x24,  // R
        kChecksum = 0x28,   // R: sum of the bytes the last read command fetched
        kIrqStatus = 0x2c,  // R: 1 after a command completes
        kIrqAck = 0x30,     // W
    };
    static constexpr uint32_t kMagic = 0x31414d44; // "DMA1"
    static constexpr uint32_t kCmdWrite = 1;
    static constexpr uint32_t kCmdRead = 2;
    static constexpr uint32_t kStatusOk = 0;
    static constexpr uint32_t kStatusFault = 1;
    static constexpr uint32_t kStatusBadCommand = 2;
    static constexpr uint32_t kMaxLength = 1u << 20;

    DmaEngine(Kind kind, DmaPort port, IrqLine& irq);

    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, unsigned size, uint64_t value) override;

    const DmaPort& port() const { return port_; }
    // The byte a write command puts at offset i of the buffer: how the driver checks the data landed.
    static uint8_t pattern(uint32_t seed, uint64_t i) { return static_cast<uint8_t>(seed + i * 7); }

private:
    void run(uint32_t command);

    Kind kind_;
    DmaPort port_;
    IrqLine& irq_;
    uint64_t addr_ = 0;
    uint32_t length_ = 0;
    uint32_t seed_ = 0;
    uint32_t status_ = kStatusOk;
    uint64_t fault_ = 0;
    uint32_t checksum_ = 0;
    uint32_t irq_status_ = 0;
    std::vector<uint8_t> buffer_; // the device's own memory
};

} // namespace viommu::hw::endpoints
