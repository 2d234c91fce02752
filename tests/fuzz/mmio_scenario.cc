#include "tests/fuzz/mmio_scenario.h"

#include "tests/fuzz/fuzz_bytes.h"

namespace viommu::fuzz {

namespace {
enum Kind : uint8_t { kRead, kWrite, kRam, kRun, kKinds };
constexpr unsigned kWidths[] = {1, 2, 4, 8};

unsigned width_index(unsigned width)
{
    return width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : 3;
}
} // namespace

RamWrite decode_ram_write(ByteReader& r)
{
    RamWrite w;
    w.offset = r.u32() % kMmioRamSize;
    w.bytes = r.bytes(r.u8());
    return w;
}

void encode_ram_write(ByteWriter& w, const RamWrite& ram)
{
    w.u32(ram.offset);
    w.u8(static_cast<uint8_t>(ram.bytes.size()));
    w.bytes(ram.bytes);
}

std::vector<MmioOp> decode_mmio_ops(std::span<const uint8_t> input)
{
    ByteReader r(input);
    std::vector<MmioOp> ops;
    while (!r.empty() && ops.size() < kMaxMmioOps) {
        const uint8_t op = r.u8();
        switch (op % kKinds) {
        case kRead: ops.push_back(RegRead{r.u16() % kMmioSpan, kWidths[(op >> 2) & 3]}); break;
        case kWrite: {
            RegWrite w{r.u16() % kMmioSpan, kWidths[(op >> 2) & 3], 0};
            w.value = w.width == 8 ? r.u64() : r.u32();
            ops.push_back(w);
            break;
        }
        case kRam: ops.push_back(decode_ram_write(r)); break;
        default: ops.push_back(RunDevice{}); break;
        }
    }
    return ops;
}

std::vector<uint8_t> encode_mmio_ops(std::span<const MmioOp> ops)
{
    ByteWriter w;
    for (const MmioOp& op : ops) {
        if (const auto* rd = std::get_if<RegRead>(&op)) {
            w.u8(static_cast<uint8_t>(kRead | width_index(rd->width) << 2));
            w.u16(static_cast<uint16_t>(rd->offset));
        } else if (const auto* wr = std::get_if<RegWrite>(&op)) {
            w.u8(static_cast<uint8_t>(kWrite | width_index(wr->width) << 2));
            w.u16(static_cast<uint16_t>(wr->offset));
            if (wr->width == 8)
                w.u64(wr->value);
            else
                w.u32(static_cast<uint32_t>(wr->value));
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
