#include "virtio/guest_memory.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/checked.h"

namespace viommu::virtio {

Expected<void, std::string> GuestMemory::sort_and_check(std::vector<RamRegion>& regions)
{
    if (regions.empty())
        return unexpected(std::string("guest memory needs at least one RAM region"));
    std::sort(regions.begin(), regions.end(), [](const RamRegion& a, const RamRegion& b) { return a.base < b.base; });
    for (std::size_t i = 0; i < regions.size(); ++i) {
        const RamRegion& r = regions[i];
        if (r.size == 0)
            return unexpected(fmt::format("RAM region at {:#x} is empty", r.base.value()));
        const auto last = last_byte(r.base.value(), r.size);
        if (!last)
            return unexpected(fmt::format("RAM region at {:#x} of {:#x} bytes wraps past 2^64", r.base.value(), r.size));
        if (i + 1 < regions.size() && *last >= regions[i + 1].base.value())
            return unexpected(fmt::format("RAM regions at {:#x} and {:#x} overlap", r.base.value(),
                                          regions[i + 1].base.value()));
    }
    return {};
}

Expected<GuestMemory, std::string> GuestMemory::create(std::vector<RamRegion> regions)
{
    if (auto layout = sort_and_check(regions); !layout)
        return unexpected(layout.error());
    GuestMemory mem;
    mem.regions_ = regions;
    for (const RamRegion& r : regions) {
        void* host = mmap(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (host == MAP_FAILED)
            return unexpected(fmt::format("cannot map {:#x} bytes of guest RAM at {:#x}", r.size, r.base.value()));
        mem.maps_.push_back({r, static_cast<uint8_t*>(host)});
    }
    return mem;
}

Expected<GuestMemory, std::string> GuestMemory::create_shared(int fd, std::vector<SharedRamRegion> shared)
{
    std::vector<RamRegion> regions;
    for (const SharedRamRegion& s : shared)
        regions.push_back(s.region);
    if (auto layout = sort_and_check(regions); !layout)
        return unexpected(layout.error());
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return unexpected(fmt::format("cannot stat the guest RAM file: {}", std::strerror(errno)));
    const auto file_size = static_cast<uint64_t>(st.st_size);
    const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    std::sort(shared.begin(), shared.end(),
              [](const SharedRamRegion& a, const SharedRamRegion& b) { return a.region.base < b.region.base; });
    GuestMemory mem;
    for (const SharedRamRegion& s : shared) {
        const RamRegion& r = s.region;
        if (s.file_offset % page != 0)
            return unexpected(fmt::format("RAM region at {:#x}: file offset {:#x} is not page-aligned",
                                          r.base.value(), s.file_offset));
        const auto file_last = last_byte(s.file_offset, r.size);
        if (!file_last || *file_last >= file_size)
            return unexpected(fmt::format("RAM region at {:#x}: file bytes [{:#x}, +{:#x}) are past the file's "
                                          "end ({:#x})", r.base.value(), s.file_offset, r.size, file_size));
        void* host = mmap(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(s.file_offset));
        if (host == MAP_FAILED)
            return unexpected(fmt::format("cannot map {:#x} bytes of shared guest RAM at {:#x}: {}", r.size,
                                          r.base.value(), std::strerror(errno)));
        mem.regions_.push_back(r);
        mem.maps_.push_back({r, static_cast<uint8_t*>(host)});
    }
    return mem;
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : regions_(std::move(other.regions_)), maps_(std::move(other.maps_))
{
    other.maps_.clear();
}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept
{
    if (this != &other) {
        for (const Mapping& m : maps_)
            munmap(m.host, m.region.size);
        regions_ = std::move(other.regions_);
        maps_ = std::move(other.maps_);
        other.maps_.clear();
    }
    return *this;
}

GuestMemory::~GuestMemory()
{
    for (const Mapping& m : maps_)
        munmap(m.host, m.region.size);
}

uint64_t GuestMemory::total_size() const
{
    uint64_t total = 0;
    for (const RamRegion& r : regions_)
        total += r.size; // regions do not overlap, so the sum fits in 2^64
    return total;
}

std::optional<std::span<uint8_t>> GuestMemory::slice(GuestAddr addr, uint64_t len) const
{
    if (uint8_t* host = in_one_region(addr.value(), len))
        return std::span<uint8_t>(host, len);
    return std::nullopt;
}

std::optional<GuestMemory::HostRegion> GuestMemory::host_region(GuestAddr addr) const
{
    const Mapping* m = find(addr.value());
    if (!m)
        return std::nullopt;
    return HostRegion{m->region.base.value(), m->region.size, m->host};
}

// Calls fn(host_pointer, length, offset_into_request) for each region-sized piece of [addr, addr + len),
// after checking that every piece is RAM. Nothing is visited when any byte is outside RAM.
template <class Fn>
bool GuestMemory::for_each_piece(uint64_t addr, uint64_t len, Fn&& fn) const
{
    if (len == 0)
        return find(addr) != nullptr;
    if (!last_byte(addr, len))
        return false;
    // First pass: check. Second pass: act. No partial copies on failure.
    for (int pass = 0; pass < 2; ++pass) {
        uint64_t cur = addr;
        uint64_t left = len;
        uint64_t done = 0;
        while (left > 0) {
            const Mapping* m = find(cur);
            if (!m)
                return false;
            const uint64_t offset = cur - m->region.base.value();
            const uint64_t n = std::min(left, m->region.size - offset);
            if (pass == 1)
                fn(m->host + offset, n, done);
            cur += n; // cannot wrap: [addr, addr + len) was checked above
            left -= n;
            done += n;
        }
    }
    return true;
}

bool GuestMemory::contains(GuestAddr addr, uint64_t len) const
{
    return for_each_piece(addr.value(), len, [](uint8_t*, uint64_t, uint64_t) {});
}

bool GuestMemory::read_across(uint64_t addr, std::span<uint8_t> out) const
{
    return for_each_piece(addr, out.size(),
                          [&](uint8_t* host, uint64_t n, uint64_t done) { std::memcpy(out.data() + done, host, n); });
}

bool GuestMemory::write_across(uint64_t addr, std::span<const uint8_t> in)
{
    return for_each_piece(addr, in.size(),
                          [&](uint8_t* host, uint64_t n, uint64_t done) { std::memcpy(host, in.data() + done, n); });
}

bool GuestMemory::fill(GuestAddr addr, uint8_t byte, uint64_t len)
{
    return for_each_piece(addr.value(), len, [&](uint8_t* host, uint64_t n, uint64_t) { std::memset(host, byte, n); });
}

} // namespace viommu::virtio
