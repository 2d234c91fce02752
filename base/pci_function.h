// What a driver sees of one PCI function: its configuration space, and the memory windows its BARs
// decode once assigned. A guest-side driver (virtio-pci) written against this drives an emulated
// function of ours and a function inside a QEMU process alike; it never sees which.
#pragma once

#include <cstdint>

#include "base/bus.h"

namespace viommu {

class PciFunction {
public:
    virtual ~PciFunction() = default;
    // A configuration read or write of 1, 2 or 4 bytes, naturally aligned, below 256 (conventional
    // configuration space, as type 1 configuration cycles through 0xcf8/0xcfc reach it). A function
    // that does not answer reads all ones, as after a master abort (PCI 3.0 §6.1).
    virtual uint32_t config_read(uint32_t offset, unsigned size) = 0;
    virtual void config_write(uint32_t offset, unsigned size, uint32_t value) = 0;
    // BAR index's memory window, offsets from the BAR's base; nullptr when the function has no memory
    // BAR there or it is not assigned. For a 64-bit BAR, index is its lower half.
    virtual MmioRegion* bar(unsigned index) = 0;
};

} // namespace viommu
