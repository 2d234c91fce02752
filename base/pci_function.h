// What a driver sees of one PCI function, as Linux's PCI core hands a struct pci_dev to a driver: its
// configuration space (pci_read_config_*(), pci_write_config_*()), the physical memory space its BARs'
// bus addresses lie in (pci_iomap() maps a BAR by the address it reads from configuration space), its
// INTx line, and the platform's MSI domain, which gives each MSI-X vector the message that raises it.
// Devices and drivers meet only here and in guest memory: a board, a test or a real QEMU behind qtest
// provides it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "base/bus.h"

namespace viommu {

// An MSI or MSI-X message (PCI 3.0 §6.8): a DWORD write of data to address.
struct MsiMessage {
    uint64_t address = 0;
    uint32_t data = 0;
};

class PciFunction {
public:
    virtual ~PciFunction() = default;

    // A configuration read or write of 1, 2 or 4 bytes at offset (below 256 on conventional PCI).
    virtual uint32_t config_read(uint32_t offset, unsigned size) = 0;
    virtual void config_write(uint32_t offset, unsigned size, uint32_t value) = 0;

    // Memory space, addressed by bus address: where a BAR is reached once its address is known.
    virtual MmioRegion& memory_space() = 0;

    // The function's INTx line as the platform routes it (pci_dev->irq).
    virtual IrqWire& intx() = 0;

    // The platform's MSI domain (pci_alloc_irq_vectors()): a message whose write runs handler, or
    // nullopt when the platform has no vector left. free_msi() releases every message of the function.
    virtual std::optional<MsiMessage> alloc_msi(std::function<void()> handler) = 0;
    virtual void free_msi() = 0;
};

} // namespace viommu
