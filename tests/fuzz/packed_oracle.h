// The packed-virtqueue rules a device must apply to a list before it uses it (virtio v1.2 §2.8), written
// as plainly as possible, for fuzz-packed-virtqueue to check virtio/packed_queue.cc against. It reads the
// ring as the driver left it, from the device's next position and wrap counter, and says whether a list
// is available there and, if so, whether a device may use it, its Buffer ID, how many ring descriptors it
// takes, how many bytes each part holds, and where its device-writable buffers are.
//
// Besides the spec's MUSTs it applies the limits the device chose and documents in docs/conformance.md:
// a zero-length buffer, a chain over 2^32 bytes, an indirect table of more than 32768 entries and a
// buffer or table outside RAM make a list unusable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_ram.h"
#include "virtio/guest_memory.h"

namespace viommu::fuzz {

struct PackedRing {
    uint32_t size = 0;
    uint64_t desc = 0; // in RAM: the harness places it
    bool indirect = false;
};

struct PackedWalk {
    enum class Verdict { kNothing, kUsable, kRefused };
    Verdict verdict = Verdict::kNothing;
    std::string why_not; // when refused, for reports
    uint16_t id = 0;
    uint32_t slots = 0;   // ring descriptors the list takes
    uint64_t readable = 0; // bytes
    uint64_t writable = 0; // bytes
    std::vector<GuestRange> writable_buffers;
};

PackedWalk walk_packed_list(const virtio::GuestMemory& mem, const PackedRing& ring, uint32_t pos, bool wrap);

} // namespace viommu::fuzz
