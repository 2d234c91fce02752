// The guest RAM of the ring fuzz targets (RamLayout: regions A and B adjacent, C apart), and how a target
// sees what a device wrote in it: copies of all of RAM before and after, and the first byte that changed
// outside the ranges the device may write.
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

// The same RAM for every input, zeroed as if new: mapping and unmapping it per input cost a quarter of
// the run (page faults, and TLB shootdowns across libFuzzer's threads at every munmap).
virtio::GuestMemory& fresh_ram();

// All of RAM as it is now, in a buffer that lives as long as the process. Only the pages that differ
// from the last copy are copied: a target takes one before every notification, and copying all of RAM
// each time was most of fuzz-virtqueue's run.
const std::vector<uint8_t>& ram_snapshot(const virtio::GuestMemory& mem);

// The first address whose byte differs between `before` (a ram_snapshot()) and RAM now, outside every
// allowed range.
std::optional<uint64_t> stray_write(const virtio::GuestMemory& mem, const std::vector<uint8_t>& before,
                                    std::span<const GuestRange> allowed);

} // namespace viommu::fuzz
