// Guest-physical memory: the only door to guest bytes.
//
// The address space is a set of RAM regions. Every access names a guest-physical range and is checked
// against the regions with overflow-safe arithmetic; a range that wraps past 2^64 or leaves RAM is an
// error value, never a host access. The bytes are guest-controlled: anything read here is untrusted.
//
// Threading: a guest's memory is used from the one executor that runs that guest (see docs/design.md, "The
// event loop"), so the device and the driver model never touch it concurrently.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/addr.h"
#include "base/expected.h"

namespace viommu::virtio {

struct RamRegion {
    GuestAddr base;
    uint64_t size = 0;
};

// A RAM region whose bytes are another process's guest RAM: file_offset into a file (a memfd) that the
// other side maps MAP_SHARED too, so that what either side writes the other reads, with no copy.
struct SharedRamRegion {
    RamRegion region;
    uint64_t file_offset = 0;
};

class GuestMemory {
public:
    // Maps zero-filled RAM for each region (lazily: untouched pages cost nothing). Regions must be
    // non-empty, must not overlap and must not wrap past 2^64.
    [[nodiscard]] static Expected<GuestMemory, std::string> create(std::vector<RamRegion> regions);
    // Maps each region MAP_SHARED from fd at its file offset; the same checks as create(), and each
    // offset must be page-aligned and [offset, offset + size) must lie inside the file as it is now (a
    // page past its end would be SIGBUS on access, not an error value). fd stays the caller's: the
    // mappings outlive it.
    [[nodiscard]] static Expected<GuestMemory, std::string> create_shared(int fd,
                                                                           std::vector<SharedRamRegion> regions);

    GuestMemory(GuestMemory&& other) noexcept;
    GuestMemory& operator=(GuestMemory&& other) noexcept;
    GuestMemory(const GuestMemory&) = delete;
    GuestMemory& operator=(const GuestMemory&) = delete;
    ~GuestMemory();

    // Host view of [addr, addr + len) if it lies inside one region. len 0 is a valid empty slice of any
    // address inside RAM.
    [[nodiscard]] std::optional<std::span<uint8_t>> slice(GuestAddr addr, uint64_t len) const;

    // The whole region holding addr, for callers that cache a translation (the virtqueue walk).
    struct HostRegion {
        uint64_t base = 0;
        uint64_t size = 0;
        uint8_t* host = nullptr;
    };
    [[nodiscard]] std::optional<HostRegion> host_region(GuestAddr addr) const;

    // Whether [addr, addr + len) is RAM, possibly across adjacent regions.
    [[nodiscard]] bool contains(GuestAddr addr, uint64_t len) const;

    // Copies across adjacent regions; false (and nothing copied) when any byte is outside RAM.
    [[nodiscard]] bool read(GuestAddr addr, std::span<uint8_t> out) const
    {
        if (const uint8_t* host = in_one_region(addr.value(), out.size())) {
            if (!out.empty()) // an empty span's data() may be null, which memcpy must not see
                std::memcpy(out.data(), host, out.size());
            return true;
        }
        return read_across(addr.value(), out);
    }
    [[nodiscard]] bool write(GuestAddr addr, std::span<const uint8_t> in)
    {
        if (uint8_t* host = in_one_region(addr.value(), in.size())) {
            if (!in.empty())
                std::memcpy(host, in.data(), in.size());
            return true;
        }
        return write_across(addr.value(), in);
    }
    [[nodiscard]] bool fill(GuestAddr addr, uint8_t byte, uint64_t len);

    // Inline so that a fixed-size object is copied without a call: ring fields are read and written
    // millions of times a second.
    template <class T>
    [[nodiscard]] std::optional<T> read_obj(GuestAddr addr) const
    {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        if (!read(addr, std::span(reinterpret_cast<uint8_t*>(&value), sizeof(T))))
            return std::nullopt;
        return value;
    }

    template <class T>
    [[nodiscard]] bool write_obj(GuestAddr addr, const T& value)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(addr, std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
    }

    const std::vector<RamRegion>& regions() const { return regions_; }
    uint64_t total_size() const;

private:
    struct Mapping {
        RamRegion region;
        uint8_t* host = nullptr;
    };
    GuestMemory() = default;
    // Sorts regions by base, then checks them: non-empty, no overlap, no wrap past 2^64.
    static Expected<void, std::string> sort_and_check(std::vector<RamRegion>& regions);
    const Mapping* find(uint64_t addr) const
    {
        // Few regions (RAM below and above a hole): a linear scan beats a tree.
        for (const Mapping& m : maps_)
            if (addr >= m.region.base.value() && addr - m.region.base.value() < m.region.size)
                return &m;
        return nullptr;
    }
    // The host bytes of [addr, addr + len) when they all lie in one region (almost every access), else
    // nullptr: the caller then takes the general path, which also handles ranges across regions.
    uint8_t* in_one_region(uint64_t addr, uint64_t len) const
    {
        const Mapping* m = find(addr);
        if (!m)
            return nullptr;
        const uint64_t offset = addr - m->region.base.value();
        return len <= m->region.size - offset ? m->host + offset : nullptr;
    }
    bool read_across(uint64_t addr, std::span<uint8_t> out) const;
    bool write_across(uint64_t addr, std::span<const uint8_t> in);
    template <class Fn>
    bool for_each_piece(uint64_t addr, uint64_t len, Fn&& fn) const;

    std::vector<RamRegion> regions_;
    std::vector<Mapping> maps_; // sorted by base
};

} // namespace viommu::virtio
