// What a driver sees of a device: a window of registers it reads and writes, and an interrupt line.
// Both sides meet only here and in guest memory, as on real hardware.
#pragma once

#include <cstdint>

namespace viommu {

class MmioRegion {
public:
    virtual ~MmioRegion() = default;
    // size is 1, 2, 4 or 8 bytes; offset is from the start of the window.
    virtual uint64_t read(uint64_t offset, unsigned size) = 0;
    virtual void write(uint64_t offset, unsigned size, uint64_t value) = 0;
};

class IrqLine {
public:
    virtual ~IrqLine() = default;
    // A level-triggered line: high while the device has an unacknowledged interrupt.
    virtual void set_level(bool high) = 0;
};

// Where a PCI function's message-signalled interrupts go (PCI 3.0 §6.8): an MSI or MSI-X message is a
// DWORD memory write of its data to its address, which the board's interrupt controller (an x86 LAPIC
// window, an Arm GICv3 ITS doorbell) turns into an interrupt. The board provides the sink.
class MsiSink {
public:
    virtual ~MsiSink() = default;
    virtual void write(uint64_t address, uint32_t data) = 0;
};

// The wire between a device's interrupt output and whatever takes the interrupt (the board's interrupt
// controller): devices are built before the driver that will handle them, as on a real platform.
class IrqWire final : public IrqLine {
public:
    void connect(IrqLine* handler)
    {
        handler_ = handler;
        if (handler_ && level_)
            handler_->set_level(true);
    }
    void set_level(bool high) override
    {
        level_ = high;
        if (handler_)
            handler_->set_level(high);
    }
    bool level() const { return level_; }

private:
    IrqLine* handler_ = nullptr;
    bool level_ = false;
};

// What a guest CPU does while a driver waits on its device (polling a used ring, or halted until an
// interrupt): the board runs the device work and interrupt handlers that are ready. Drivers never see
// the board's event loop, only this. Returns whether anything ran.
class WaitForEvent {
public:
    virtual ~WaitForEvent() = default;
    virtual bool wait() = 0;
};

} // namespace viommu
