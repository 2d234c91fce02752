#include "tests/fuzz/fuzz_ram.h"

#include <algorithm>
#include <cstring>

#include "tests/fuzz/finding.h"
#include "tests/fuzz/ring_scenario.h"

namespace viommu::fuzz {

namespace {

constexpr std::size_t kAB = RamLayout::kASize + RamLayout::kBSize;
constexpr std::size_t kRamBytes = kAB + RamLayout::kCSize;
constexpr std::size_t kPage = 4096;
constexpr std::size_t kBlock = 64;
static_assert(RamLayout::kB == RamLayout::kA + RamLayout::kASize && kRamBytes % kPage == 0);

uint64_t address_of(std::size_t offset)
{
    return offset < kAB ? RamLayout::kA + offset : RamLayout::kC + (offset - kAB);
}

virtio::GuestMemory& shared_ram()
{
    static virtio::GuestMemory mem = [] {
        auto m = virtio::GuestMemory::create({{GuestAddr(RamLayout::kA), RamLayout::kASize},
                                              {GuestAddr(RamLayout::kB), RamLayout::kBSize},
                                              {GuestAddr(RamLayout::kC), RamLayout::kCSize}});
        if (!m)
            finding(m.error());
        return std::move(*m);
    }();
    return mem;
}

std::vector<uint8_t>& shared_copy()
{
    static std::vector<uint8_t> copy(kRamBytes);
    return copy;
}

} // namespace

std::optional<std::size_t> ram_offset(uint64_t addr, uint64_t len)
{
    if (addr >= RamLayout::kA && addr - RamLayout::kA <= kAB && len <= kAB - (addr - RamLayout::kA))
        return addr - RamLayout::kA;
    if (addr >= RamLayout::kC && addr - RamLayout::kC <= RamLayout::kCSize && len <= RamLayout::kCSize - (addr - RamLayout::kC))
        return kAB + (addr - RamLayout::kC);
    return std::nullopt;
}

WatchedRam::WatchedRam() : mem_(shared_ram()), copy_(shared_copy())
{
    for (const virtio::RamRegion& r : mem_.regions())
        if (!mem_.fill(r.base, 0, r.size))
            finding("cannot zero the harness's RAM");
    std::memset(copy_.data(), 0, copy_.size());
    writes_.reserve(64);
}

bool WatchedRam::write(GuestAddr at, std::span<const uint8_t> bytes)
{
    const auto offset = ram_offset(at.value(), bytes.size());
    if (!offset || !mem_.write(at, bytes))
        return false;
    if (!bytes.empty())
        std::memcpy(copy_.data() + *offset, bytes.data(), bytes.size());
    return true;
}

bool WatchedRam::fill(GuestAddr at, uint8_t byte, uint64_t len)
{
    const auto offset = ram_offset(at.value(), len);
    if (!offset || !mem_.fill(at, byte, len))
        return false;
    std::memset(copy_.data() + *offset, byte, len);
    return true;
}

const std::vector<GuestRange>& WatchedRam::take_device_writes()
{
    writes_.clear();
    auto note = [&](std::size_t offset) {
        const uint64_t a = address_of(offset);
        if (!writes_.empty() && writes_.back().addr + writes_.back().len == a)
            ++writes_.back().len;
        else
            writes_.push_back({a, 1});
    };
    std::size_t at = 0;
    for (const virtio::RamRegion& r : mem_.regions()) {
        const auto host = mem_.slice(r.base, r.size);
        if (!host || at + r.size > kRamBytes || r.size % kPage != 0)
            finding("the harness's RAM is not where RamLayout puts it");
        for (std::size_t page = 0; page < r.size; page += kPage) {
            uint8_t* now = host->data() + page;
            uint8_t* was = copy_.data() + at + page;
            if (std::memcmp(was, now, kPage) == 0)
                continue;
            for (std::size_t block = 0; block < kPage; block += kBlock)
                if (std::memcmp(was + block, now + block, kBlock) != 0)
                    for (std::size_t i = block; i < block + kBlock; ++i)
                        if (was[i] != now[i])
                            note(at + page + i);
            std::memcpy(was, now, kPage);
        }
        at += r.size;
    }
    return writes_;
}

std::optional<uint64_t> outside(std::span<const GuestRange> writes, std::span<const GuestRange> allowed)
{
    for (const GuestRange& w : writes) {
        // Walk the run through the allowed ranges that cover it, until a byte that none covers.
        uint64_t a = w.addr;
        const uint64_t end = w.addr + w.len;
        while (a < end) {
            uint64_t covered_to = a;
            for (const GuestRange& r : allowed)
                if (a >= r.addr && a - r.addr < r.len)
                    covered_to = std::max(covered_to, r.len > UINT64_MAX - r.addr ? UINT64_MAX : r.addr + r.len);
            if (covered_to == a)
                return a;
            a = covered_to;
        }
    }
    return std::nullopt;
}

} // namespace viommu::fuzz
