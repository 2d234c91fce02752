#include "tests/fuzz/pci_scenario.h"

#include "tests/fuzz/fuzz_bytes.h"

namespace viommu::fuzz {

namespace {
// The action byte: bits 0-2 the kind (6 and 7 run the device), bits 3-4 the width, bit 5 the BAR (0:
// BAR 4, 1: BAR 1).
enum Kind : uint8_t { kConfigRead, kConfigWrite, kBarRead, kBarWrite, kRam, kRun };
constexpr unsigned kWidths[] = {1, 2, 4, 8};

uint8_t width_bits(unsigned width)
{
    return static_cast<uint8_t>((width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : 3) << 3);
}
uint8_t bar_bit(unsigned bar) { return bar == 1 ? 0x20 : 0; }
} // namespace

std::vector<PciOp> decode_pci_ops(std::span<const uint8_t> input)
{
    ByteReader r(input);
    std::vector<PciOp> ops;
    while (!r.empty() && ops.size() < kMaxPciOps) {
        const uint8_t op = r.u8();
        const unsigned width = kWidths[(op >> 3) & 3];
        const unsigned bar = (op & 0x20) ? 1 : 4;
        switch (op & 7) {
        case kConfigRead: ops.push_back(ConfigRead{r.u16() % kPciConfigSpan, width}); break;
        case kConfigWrite: ops.push_back(ConfigWrite{r.u16() % kPciConfigSpan, width, r.u32()}); break;
        case kBarRead: ops.push_back(BarRead{bar, r.u16() % kPciBarSpan, width}); break;
        case kBarWrite: {
            BarWrite w{bar, r.u16() % kPciBarSpan, width, 0};
            w.value = width == 8 ? r.u64() : r.u32();
            ops.push_back(w);
            break;
        }
        case kRam: ops.push_back(decode_ram_write(r)); break;
        default: ops.push_back(RunDevice{}); break;
        }
    }
    return ops;
}

std::vector<uint8_t> encode_pci_ops(std::span<const PciOp> ops)
{
    ByteWriter w;
    for (const PciOp& op : ops) {
        if (const auto* rd = std::get_if<ConfigRead>(&op)) {
            w.u8(static_cast<uint8_t>(kConfigRead | width_bits(rd->width)));
            w.u16(static_cast<uint16_t>(rd->offset));
        } else if (const auto* wr = std::get_if<ConfigWrite>(&op)) {
            w.u8(static_cast<uint8_t>(kConfigWrite | width_bits(wr->width)));
            w.u16(static_cast<uint16_t>(wr->offset));
            w.u32(wr->value);
        } else if (const auto* brd = std::get_if<BarRead>(&op)) {
            w.u8(static_cast<uint8_t>(kBarRead | width_bits(brd->width) | bar_bit(brd->bar)));
            w.u16(static_cast<uint16_t>(brd->offset));
        } else if (const auto* bwr = std::get_if<BarWrite>(&op)) {
            w.u8(static_cast<uint8_t>(kBarWrite | width_bits(bwr->width) | bar_bit(bwr->bar)));
            w.u16(static_cast<uint16_t>(bwr->offset));
            if (bwr->width == 8)
                w.u64(bwr->value);
            else
                w.u32(static_cast<uint32_t>(bwr->value));
        } else if (const auto* ram = std::get_if<RamWrite>(&op)) {
            w.u8(kRam);
            encode_ram_write(w, *ram);
        } else {
            w.u8(kRun);
        }
    }
    return w.data();
}

} // namespace viommu::fuzz
