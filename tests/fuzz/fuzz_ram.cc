#include "tests/fuzz/fuzz_ram.h"

#include <algorithm>
#include <cstring>

#include "tests/fuzz/finding.h"
#include "tests/fuzz/ring_scenario.h"

namespace viommu::fuzz {

namespace {

uint64_t address_of(std::size_t i)
{
    const std::size_t ab = RamLayout::kASize + RamLayout::kBSize;
    return i < ab ? RamLayout::kA + i : RamLayout::kC + (i - ab);
}

} // namespace

virtio::GuestMemory& fresh_ram()
{
    static virtio::GuestMemory mem = [] {
        auto m = virtio::GuestMemory::create({{GuestAddr(RamLayout::kA), RamLayout::kASize},
                                              {GuestAddr(RamLayout::kB), RamLayout::kBSize},
                                              {GuestAddr(RamLayout::kC), RamLayout::kCSize}});
        if (!m)
            finding(m.error());
        return std::move(*m);
    }();
    for (const virtio::RamRegion& r : mem.regions())
        if (!mem.fill(r.base, 0, r.size))
            finding("cannot zero the harness's RAM");
    return mem;
}

const std::vector<uint8_t>& ram_snapshot(const virtio::GuestMemory& mem, RamCopy which)
{
    static std::vector<uint8_t> copies[2];
    std::vector<uint8_t>& all = copies[which == RamCopy::kBefore ? 0 : 1];
    all.resize(RamLayout::kASize + RamLayout::kBSize + RamLayout::kCSize);
    (void)mem.read(GuestAddr(RamLayout::kA), std::span(all).first(RamLayout::kASize + RamLayout::kBSize));
    (void)mem.read(GuestAddr(RamLayout::kC), std::span(all).last(RamLayout::kCSize));
    return all;
}

std::optional<uint64_t> stray_write(const virtio::GuestMemory& mem, const std::vector<uint8_t>& before,
                                    std::span<const GuestRange> allowed)
{
    const auto& after = ram_snapshot(mem, RamCopy::kAfter);
    // Whole pages, then 64-byte blocks, compared with memcmp first: a byte loop over all of RAM, with the
    // fuzzer's comparison hooks in it, would be most of the run time.
    for (std::size_t i = 0; i < after.size(); ++i) {
        bool skipped = false;
        for (const std::size_t block : {std::size_t{4096}, std::size_t{64}})
            if (!skipped && i % block == 0 && std::memcmp(&after[i], &before[i], std::min(block, after.size() - i)) == 0) {
                i += block - 1;
                skipped = true;
            }
        if (skipped || after[i] == before[i])
            continue;
        const uint64_t a = address_of(i);
        bool ok = false;
        for (const GuestRange& r : allowed)
            ok |= a >= r.addr && a - r.addr < r.len;
        if (!ok)
            return a;
    }
    return std::nullopt;
}

} // namespace viommu::fuzz
