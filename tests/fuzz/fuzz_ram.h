// The guest RAM of the ring fuzz targets (RamLayout: regions A and B adjacent, C apart), and how a target
// sees what a device wrote in it: the harness writes through WatchedRam, which keeps a copy of RAM as the
// harness and the device last left it, so that after a notification every difference is the device's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "virtio/guest_memory.h"

namespace viommu::fuzz {

struct GuestRange {
    uint64_t addr;
    uint64_t len;
};

// Where [addr, addr + len) lies in a copy of RAM (A and B follow each other there, as in guest memory, and
// C comes after them), or nullopt when it is not all RAM. A range may straddle A and B.
std::optional<std::size_t> ram_offset(uint64_t addr, uint64_t len);

class WatchedRam {
public:
    // The same RAM for every input, zeroed as if new, and so is its copy: mapping and unmapping RAM per
    // input cost a quarter of the run (page faults, and TLB shootdowns across libFuzzer's threads at every
    // munmap). One WatchedRam at a time.
    WatchedRam();

    virtio::GuestMemory& memory() { return mem_; }

    // The harness's own writes, to RAM and to the copy; false, and nothing written, outside RAM.
    bool write(GuestAddr at, std::span<const uint8_t> bytes);
    template <typename T>
    bool write_obj(GuestAddr at, const T& value)
    {
        return write(at, std::span(reinterpret_cast<const uint8_t*>(&value), sizeof value));
    }
    bool fill(GuestAddr at, uint8_t byte, uint64_t len);

    // The bytes that changed since the last call other than through the harness's writes, as sorted runs
    // of changed bytes; the copy then holds RAM as it is. Pages are compared whole first: copying and
    // comparing all of RAM around every notification was most of fuzz-virtqueue's time.
    const std::vector<GuestRange>& take_device_writes();

private:
    virtio::GuestMemory& mem_;
    std::vector<uint8_t>& copy_;
    std::vector<GuestRange> writes_;
};

// The first address of `writes` outside every allowed range.
std::optional<uint64_t> outside(std::span<const GuestRange> writes, std::span<const GuestRange> allowed);

} // namespace viommu::fuzz
