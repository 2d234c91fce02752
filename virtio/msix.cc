#include "virtio/msix.h"

#include <bit>
#include <stdexcept>

#include "virtio/trace_events.h"
#include "virtio/wire/pci_regs.h"

namespace viommu::virtio {

using namespace pci;

MsixTable::MsixTable(unsigned vectors, MsiSink& sink) : sink_(sink), entries_(vectors)
{
    if (vectors == 0 || vectors > kMsixMaxVectors)
        throw std::invalid_argument("an MSI-X table has 1 to 2048 vectors");
    // QEMU's msix_init_exclusive_bar(): a 4 KiB BAR with the PBA in its upper half, unless the table
    // needs more than the lower half.
    const uint32_t table_bytes = vectors * kMsixEntrySize;
    const uint32_t pba_bytes = (vectors + 63) / 64 * 8;
    pba_offset_ = std::max<uint32_t>(0x800, table_bytes);
    bar_size_ = std::bit_ceil(std::max<uint64_t>(0x1000, uint64_t{pba_offset_} + pba_bytes));
}

std::optional<uint32_t> MsixTable::read32(uint32_t offset) const
{
    if (offset % 4)
        return std::nullopt;
    if (offset < entries_.size() * kMsixEntrySize) {
        const Entry& e = entries_[offset / kMsixEntrySize];
        switch (offset % kMsixEntrySize) {
        case kMsixEntryLowerAddr: return static_cast<uint32_t>(e.address);
        case kMsixEntryUpperAddr: return static_cast<uint32_t>(e.address >> 32);
        case kMsixEntryData: return e.data;
        default: return e.control;
        }
    }
    if (offset >= pba_offset_ && offset - pba_offset_ < (entries_.size() + 63) / 64 * 8) {
        const uint32_t first = (offset - pba_offset_) * 8;
        uint32_t bits = 0;
        for (uint32_t i = 0; i < 32 && first + i < entries_.size(); ++i)
            bits |= uint32_t{entries_[first + i].pending} << i;
        return bits;
    }
    return std::nullopt;
}

bool MsixTable::write32(uint32_t offset, uint32_t value)
{
    if (offset % 4 || offset >= entries_.size() * kMsixEntrySize)
        return false;
    Entry& e = entries_[offset / kMsixEntrySize];
    switch (offset % kMsixEntrySize) {
    case kMsixEntryLowerAddr: e.address = (e.address & ~uint64_t{0xffffffff}) | value; break;
    case kMsixEntryUpperAddr: e.address = (e.address & 0xffffffff) | (uint64_t{value} << 32); break;
    case kMsixEntryData: e.data = value; break;
    default:
        // §6.8.2.9: only the mask bit is defined; the others are reserved.
        e.control = value & kMsixEntryCtrlMaskBit;
        if (!masked(e) && e.pending)
            send(e);
        break;
    }
    return true;
}

void MsixTable::set_control(bool enabled, bool function_masked)
{
    enabled_ = enabled;
    function_masked_ = function_masked;
    deliver_unmasked_pending();
}

void MsixTable::set_bus_master(bool enabled)
{
    bus_master_ = enabled;
    deliver_unmasked_pending();
}

void MsixTable::deliver_unmasked_pending()
{
    if (!enabled_ || function_masked_)
        return;
    for (Entry& e : entries_)
        if (e.pending && !masked(e))
            send(e);
}

void MsixTable::notify(uint16_t vector)
{
    if (!enabled_ || vector >= entries_.size())
        return;
    Entry& e = entries_[vector];
    if (masked(e)) {
        e.pending = true;
        return;
    }
    send(e);
}

void MsixTable::send(Entry& e)
{
    if (!enabled_ || !bus_master_)
        return;
    e.pending = false;
    trace_virtio_pci_msix_send(e.address, e.data);
    sink_.write(e.address, e.data);
}

void MsixTable::reset()
{
    for (Entry& e : entries_)
        e = Entry{};
    enabled_ = false;
    function_masked_ = false;
}

} // namespace viommu::virtio
