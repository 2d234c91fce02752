#include "tests/fuzz/fuzz_ram.h"

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

constexpr std::size_t kRamBytes = RamLayout::kASize + RamLayout::kBSize + RamLayout::kCSize;
constexpr std::size_t kPage = 4096;
static_assert(kRamBytes % kPage == 0);

// Calls f(offset in a snapshot, the page's host bytes) for each 4 KiB page of RAM, in address order, until
// f returns true.
template <typename F>
void for_each_page(const virtio::GuestMemory& mem, F f)
{
    std::size_t at = 0;
    for (const virtio::RamRegion& r : mem.regions()) {
        const auto host = mem.slice(r.base, r.size);
        if (!host || r.size % kPage != 0)
            finding("the harness's RAM is not where RamLayout puts it");
        for (std::size_t offset = 0; offset < r.size; offset += kPage, at += kPage)
            if (f(at, host->data() + offset))
                return;
    }
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

const std::vector<uint8_t>& ram_snapshot(const virtio::GuestMemory& mem)
{
    static std::vector<uint8_t> copy(kRamBytes);
    for_each_page(mem, [&](std::size_t at, const uint8_t* host) {
        if (std::memcmp(&copy[at], host, kPage) != 0)
            std::memcpy(&copy[at], host, kPage);
        return false;
    });
    return copy;
}

std::optional<uint64_t> stray_write(const virtio::GuestMemory& mem, const std::vector<uint8_t>& before,
                                    std::span<const GuestRange> allowed)
{
    std::optional<uint64_t> stray;
    // Whole pages, then 64-byte blocks, compared with memcmp first: a byte loop over all of RAM, with the
    // fuzzer's comparison hooks in it, would be most of the run time.
    for_each_page(mem, [&](std::size_t page, const uint8_t* host) {
        if (std::memcmp(&before[page], host, kPage) == 0)
            return false;
        for (std::size_t block = 0; block < kPage; block += 64) {
            if (std::memcmp(&before[page + block], host + block, 64) == 0)
                continue;
            for (std::size_t i = block; i < block + 64; ++i) {
                if (before[page + i] == host[i])
                    continue;
                const uint64_t a = address_of(page + i);
                bool ok = false;
                for (const GuestRange& r : allowed)
                    ok |= a >= r.addr && a - r.addr < r.len;
                if (!ok) {
                    stray = a;
                    return true;
                }
            }
        }
        return false;
    });
    return stray;
}

} // namespace viommu::fuzz
