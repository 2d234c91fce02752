#include "virtio/pci_config_space.h"

#include <stdexcept>

namespace viommu::virtio {

using namespace pci;

PciConfigSpace::PciConfigSpace()
{
    // The header is not capability space.
    for (uint32_t i = 0; i < kFirstCapability; ++i)
        used_[i] = true;
    // QEMU's pci_init_wmask(): the command bits a driver controls, the cache line size and the
    // interrupt line.
    set_writable(kCommand, 1, static_cast<uint8_t>(kCommandIo | kCommandMemory | kCommandMaster));
    set_writable(kCommand + 1, 1, static_cast<uint8_t>(kCommandIntxDisable >> 8));
    set_writable(kCacheLineSize, 1);
    set_writable(kInterruptLine, 1);
}

void PciConfigSpace::set16(uint32_t offset, uint16_t value)
{
    set8(offset, static_cast<uint8_t>(value));
    set8(offset + 1, static_cast<uint8_t>(value >> 8));
}

void PciConfigSpace::set32(uint32_t offset, uint32_t value)
{
    set16(offset, static_cast<uint16_t>(value));
    set16(offset + 2, static_cast<uint16_t>(value >> 16));
}

void PciConfigSpace::set_writable(uint32_t offset, uint32_t length, uint8_t mask)
{
    for (uint32_t i = 0; i < length; ++i)
        writable_.at(offset + i) = mask;
}

void PciConfigSpace::add_memory_bar(unsigned index, uint64_t size, bool is_64bit, bool prefetchable)
{
    if (index + (is_64bit ? 1 : 0) >= kBarCount || size < 16 || (size & (size - 1)) ||
        (!is_64bit && size > (uint64_t{1} << 31)))
        throw std::invalid_argument("a memory BAR that PCI cannot describe");
    bars_[index] = {size, is_64bit};
    const uint32_t reg = kBar0 + 4 * index;
    set32(reg, (is_64bit ? kBarMemType64 : 0) | (prefetchable ? kBarMemPrefetch : 0));
    // §6.2.5.1: the address bits below the size are read-only zeros, so writing all ones reads back
    // the size mask; the type bits (3:0) are read-only.
    const uint64_t address_mask = ~(size - 1) & ~uint64_t{0xf};
    for (unsigned i = 0; i < 4; ++i)
        writable_[reg + i] = static_cast<uint8_t>(address_mask >> (8 * i));
    if (is_64bit)
        for (unsigned i = 4; i < 8; ++i)
            writable_[reg + i] = static_cast<uint8_t>(address_mask >> (8 * i));
}

uint8_t PciConfigSpace::add_capability(uint8_t id, uint8_t length)
{
    uint32_t start = kFirstCapability;
    for (uint32_t run = 0, i = kFirstCapability; i < kConfigSpaceSize && run < length; ++i) {
        if (used_[i]) {
            run = 0;
            start = i + 1;
        } else {
            ++run;
        }
    }
    if (start + length > kConfigSpaceSize)
        throw std::invalid_argument("no room for another PCI capability");
    for (uint32_t i = start; i < start + length; ++i)
        used_[i] = true;
    const auto offset = static_cast<uint8_t>(start);
    set8(offset, id);
    set8(offset + 1, get8(kCapabilityList));
    set8(kCapabilityList, offset);
    set16(kStatus, static_cast<uint16_t>(get16(kStatus) | kStatusCapList));
    return offset;
}

uint32_t PciConfigSpace::read(uint32_t offset, unsigned size) const
{
    uint32_t value = 0;
    for (unsigned i = 0; i < size; ++i)
        value |= uint32_t{bytes_.at(offset + i)} << (8 * i);
    return value;
}

void PciConfigSpace::write(uint32_t offset, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size; ++i) {
        uint8_t& byte = bytes_.at(offset + i);
        const uint8_t mask = writable_[offset + i];
        byte = static_cast<uint8_t>((byte & ~mask) | (static_cast<uint8_t>(value >> (8 * i)) & mask));
    }
}

std::optional<uint64_t> PciConfigSpace::bar_address(unsigned index) const
{
    if (index >= kBarCount || bars_[index].size == 0)
        return std::nullopt;
    const uint32_t reg = kBar0 + 4 * index;
    uint64_t address = get32(reg) & ~uint32_t{0xf};
    if (bars_[index].is_64bit)
        address |= uint64_t{get32(reg + 4)} << 32;
    return address;
}

} // namespace viommu::virtio
