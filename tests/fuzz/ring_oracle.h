// The split-virtqueue rules a device must apply to a chain before it uses it (virtio v1.2 §2.7.4-§2.7.5),
// written as plainly as possible, for fuzz-virtqueue to check virtio/split_queue.cc against. It walks
// the chain in guest memory as the driver left it and says whether a device may use it, how many bytes
// each part holds, and where the device-writable buffers are.
//
// Besides the spec's MUSTs it applies the limits the device chose and documents in split_queue.cc: a
// zero-length buffer, an indirect table of more than 32768 entries and a buffer or table outside RAM
// make a chain unusable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_ram.h"
#include "tests/fuzz/ring_scenario.h"
#include "virtio/guest_memory.h"

namespace viommu::fuzz {

struct WalkedChain {
    bool usable = false;
    std::string why_not;                   // when !usable, for reports
    uint64_t readable = 0;                 // bytes
    uint64_t writable = 0;                 // bytes
    std::vector<GuestRange> writable_buffers;
};

WalkedChain walk_chain(const virtio::GuestMemory& mem, const RingLayout& ring, uint16_t head);

} // namespace viommu::fuzz
