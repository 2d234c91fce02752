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

// All of RAM, copied into one of two buffers that live as long as the process: allocating them per
// notification costs more page faults than the rest of the run.
enum class RamCopy { kBefore, kAfter };
const std::vector<uint8_t>& ram_snapshot(const virtio::GuestMemory& mem, RamCopy which);

// The first address whose byte differs between `before` and RAM now, outside every allowed range.
std::optional<uint64_t> stray_write(const virtio::GuestMemory& mem, const std::vector<uint8_t>& before,
                                    std::span<const GuestRange> allowed);

} // namespace viommu::fuzz
