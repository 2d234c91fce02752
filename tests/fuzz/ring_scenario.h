// What fuzz-virtqueue feeds a virtio-iommu's request queue: a ring layout (size, the three areas'
// addresses, EVENT_IDX and INDIRECT_DESC) and a sequence of driver moves on guest memory: descriptors
// written into the ring's table or into indirect tables anywhere, raw bytes, heads published, the
// available index set to anything, notifications, and resets with a new layout.
//
// Guest RAM is three regions: A and B adjacent (buffers and tables may straddle them), C apart, with
// unmapped holes around. Addresses have a short form (a region, an offset) so that most of them land
// in RAM, and a full 64-bit form. encode_ring_scenario() writes every field in a form that decodes to
// the same value, so decode_ring_scenario(encode_ring_scenario(s)) == s (a byte write longer than 255
// bytes comes back as several).
#pragma once

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "tests/fuzz/fuzz_bytes.h"

namespace viommu::fuzz {

struct RamLayout {
    static constexpr uint64_t kA = 0x100000, kASize = 0x10000;
    static constexpr uint64_t kB = kA + kASize, kBSize = 0x10000;
    static constexpr uint64_t kC = 0x400000, kCSize = 0x2000;
};

struct RingLayout {
    uint32_t size = 16; // a power of two, 1..256 (the device's maximum)
    uint64_t desc = 0;
    uint64_t avail = 0;
    uint64_t used = 0;
    bool event_idx = false;
    bool indirect = false;
    bool operator==(const RingLayout&) const = default;
};

// A descriptor at entry `index` of the ring's table (table == 0) or of a table at `table`.
struct WriteDesc {
    uint64_t table = 0;
    uint16_t index = 0;
    uint64_t addr = 0;
    uint32_t len = 0;
    uint16_t flags = 0;
    uint16_t next = 0;
    bool operator==(const WriteDesc&) const = default;
};
struct WriteBytes {
    uint64_t addr = 0;
    std::vector<uint8_t> bytes;
    bool operator==(const WriteBytes&) const = default;
};
// Puts head in the next available slot, moves avail.idx on by one and notifies: one new chain.
struct Publish {
    uint16_t head = 0;
    bool operator==(const Publish&) const = default;
};
// Sets avail.idx to any value and notifies.
struct SetAvailIdx {
    uint16_t idx = 0;
    bool operator==(const SetAvailIdx&) const = default;
};
struct Notify {
    bool operator==(const Notify&) const = default;
};
// Resets the device and sets the queue up again with a new layout.
struct Relayout {
    RingLayout layout;
    bool operator==(const Relayout&) const = default;
};
using RingOp = std::variant<WriteDesc, WriteBytes, Publish, SetAvailIdx, Notify, Relayout>;

struct RingScenario {
    RingLayout layout;
    std::vector<RingOp> ops;
    bool operator==(const RingScenario&) const = default;
};

inline constexpr std::size_t kMaxRingOps = 512;

[[nodiscard]] RingScenario decode_ring_scenario(std::span<const uint8_t> input);
// An address in the short form (a tag naming a region and a step, a 16-bit count of steps; most land in
// RAM, some in the holes around it) or, after the tag 0xff, the full 64-bit form.
[[nodiscard]] uint64_t decode_address(ByteReader& r);
[[nodiscard]] std::vector<uint8_t> encode_ring_scenario(const RingScenario& scenario);

} // namespace viommu::fuzz
