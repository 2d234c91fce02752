#include "tests/fuzz/ring_scenario.h"

#include <algorithm>

#include "tests/fuzz/fuzz_bytes.h"

namespace viommu::fuzz {

namespace {

enum Kind : uint8_t { kDesc, kBytes, kPublish, kSetAvailIdx, kNotify, kRelayout, kKinds };
constexpr uint8_t kFull = 0xff;

// Short form: a tag (region in the low bits, 2-byte steps if bit 2, else 16-byte steps) and a 16-bit
// count of steps; the span runs a page past the region's end, into the hole after it. Regions 0-2 are
// A, B and C; 3 is the hole below A.
constexpr uint64_t kBases[] = {RamLayout::kA, RamLayout::kB, RamLayout::kC, RamLayout::kA - 0x1000};
constexpr uint64_t kSpans[] = {RamLayout::kASize + 0x1000, RamLayout::kBSize + 0x1000, RamLayout::kCSize + 0x1000,
                               0x1000};

void put_address(ByteWriter& w, uint64_t addr)
{
    for (unsigned region = 0; region < 4; ++region) {
        const uint64_t offset = addr - kBases[region];
        if (addr < kBases[region] || offset >= kSpans[region] || offset % 16)
            continue;
        w.u8(static_cast<uint8_t>(region));
        w.u16(static_cast<uint16_t>(offset / 16));
        return;
    }
    w.u8(kFull);
    w.u16(0);
    w.u64(addr);
}

uint64_t address(ByteReader& r)
{
    return decode_address(r);
}

RingLayout layout(ByteReader& r)
{
    RingLayout l;
    const uint8_t b = r.u8();
    l.size = 1u << ((b & 0xf) % 9);
    l.event_idx = b & 0x10;
    l.indirect = b & 0x20;
    l.desc = address(r);
    l.avail = address(r);
    l.used = address(r);
    return l;
}

void put_layout(ByteWriter& w, const RingLayout& l)
{
    const auto log2 = static_cast<uint8_t>(__builtin_ctz(l.size));
    w.u8(static_cast<uint8_t>(log2 | (l.event_idx ? 0x10 : 0) | (l.indirect ? 0x20 : 0)));
    put_address(w, l.desc);
    put_address(w, l.avail);
    put_address(w, l.used);
}

} // namespace

uint64_t decode_address(ByteReader& r)
{
    const uint8_t tag = r.u8();
    const uint16_t steps = r.u16();
    if (tag == kFull)
        return r.u64();
    const unsigned region = tag & 3;
    const uint64_t step = tag & 4 ? 2 : 16;
    return kBases[region] + (steps * step) % kSpans[region];
}

RingScenario decode_ring_scenario(std::span<const uint8_t> input)
{
    ByteReader r(input);
    RingScenario s;
    s.layout = layout(r);
    // Each operation takes at least its kind byte: no regrowth while decoding.
    s.ops.reserve(std::min<std::size_t>(input.size(), kMaxRingOps));
    while (!r.empty() && s.ops.size() < kMaxRingOps) {
        switch (r.u8() % kKinds) {
        case kDesc: {
            WriteDesc d;
            // Bit 0 of the selector puts it in an indirect table somewhere instead of the ring's table.
            if (r.u8() & 1)
                d.table = address(r);
            d.index = r.u16();
            d.addr = address(r);
            d.len = r.u32();
            d.flags = r.u16();
            d.next = r.u16();
            s.ops.push_back(d);
            break;
        }
        case kBytes: {
            WriteBytes b;
            b.addr = address(r);
            b.bytes = r.bytes(r.u8());
            s.ops.push_back(std::move(b));
            break;
        }
        case kPublish: s.ops.push_back(Publish{r.u16()}); break;
        case kSetAvailIdx: s.ops.push_back(SetAvailIdx{r.u16()}); break;
        case kNotify: s.ops.push_back(Notify{}); break;
        default: s.ops.push_back(Relayout{layout(r)}); break;
        }
    }
    return s;
}

std::vector<uint8_t> encode_ring_scenario(const RingScenario& s)
{
    ByteWriter w;
    put_layout(w, s.layout);
    for (const RingOp& op : s.ops) {
        if (const auto* d = std::get_if<WriteDesc>(&op)) {
            w.u8(kDesc);
            w.u8(d->table ? 1 : 0);
            if (d->table)
                put_address(w, d->table);
            w.u16(d->index);
            put_address(w, d->addr);
            w.u32(d->len);
            w.u16(d->flags);
            w.u16(d->next);
        } else if (const auto* b = std::get_if<WriteBytes>(&op)) {
            // Longer writes go as several pieces of at most 255 bytes.
            for (std::size_t at = 0; at < b->bytes.size(); at += 255) {
                const std::size_t n = std::min<std::size_t>(255, b->bytes.size() - at);
                w.u8(kBytes);
                put_address(w, b->addr + at);
                w.u8(static_cast<uint8_t>(n));
                w.bytes(std::span(b->bytes).subspan(at, n));
            }
        } else if (const auto* p = std::get_if<Publish>(&op)) {
            w.u8(kPublish);
            w.u16(p->head);
        } else if (const auto* a = std::get_if<SetAvailIdx>(&op)) {
            w.u8(kSetAvailIdx);
            w.u16(a->idx);
        } else if (std::holds_alternative<Notify>(op)) {
            w.u8(kNotify);
        } else {
            w.u8(kRelayout);
            put_layout(w, std::get<Relayout>(op).layout);
        }
    }
    return w.data();
}

} // namespace viommu::fuzz
