// The 256 bytes of a conventional PCI function's configuration space (PCI 3.0 §6.1), as QEMU keeps
// them (hw/pci/pci.c): the bytes, a mask of the bits a driver may write, a capability list built from
// 0x40 on, and memory BARs whose size a driver probes by writing all ones (§6.2.5.1).
//
// Accesses here are already checked (1, 2 or 4 bytes inside one dword, as a host bridge forwards them);
// PciTransport checks them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "virtio/wire/pci_regs.h"

namespace viommu::virtio {

class PciConfigSpace {
public:
    PciConfigSpace();

    // --- What the function's model sets up (any bit, whatever the write mask) ---
    void set8(uint32_t offset, uint8_t value) { bytes_.at(offset) = value; }
    void set16(uint32_t offset, uint16_t value);
    void set32(uint32_t offset, uint32_t value);
    void set_writable(uint32_t offset, uint32_t length, uint8_t mask = 0xff);
    // A memory BAR of `size` bytes (a power of two, at least 16); a 64-bit BAR takes index + 1 too.
    void add_memory_bar(unsigned index, uint64_t size, bool is_64bit, bool prefetchable);
    // Allocates `length` bytes for a capability the way QEMU's pci_add_capability() does: the first free
    // space from 0x40, linked at the head of the list. Returns its offset; throws when full.
    uint8_t add_capability(uint8_t id, uint8_t length);

    // --- What a driver does ---
    uint32_t read(uint32_t offset, unsigned size) const;
    // Only the writable bits change.
    void write(uint32_t offset, unsigned size, uint32_t value);

    uint8_t get8(uint32_t offset) const { return bytes_.at(offset); }
    uint16_t get16(uint32_t offset) const { return static_cast<uint16_t>(read(offset, 2)); }
    uint32_t get32(uint32_t offset) const { return read(offset, 4); }
    uint16_t command() const { return get16(pci::kCommand); }

    // Where the driver placed BAR `index`; nullopt when it is not a BAR's first register.
    std::optional<uint64_t> bar_address(unsigned index) const;
    uint64_t bar_size(unsigned index) const { return index < pci::kBarCount ? bars_[index].size : 0; }

private:
    struct Bar {
        uint64_t size = 0; // 0: no BAR starts here
        bool is_64bit = false;
    };
    std::array<uint8_t, pci::kConfigSpaceSize> bytes_{};
    std::array<uint8_t, pci::kConfigSpaceSize> writable_{};
    std::array<bool, pci::kConfigSpaceSize> used_{};
    std::array<Bar, pci::kBarCount> bars_{};
};

} // namespace viommu::virtio
