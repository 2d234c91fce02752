// What fuzz-mmio feeds a virtio-iommu's virtio-mmio window: register reads and writes at any offset
// (a little past the window too) and any width, bytes written into guest RAM (where a driver would put
// rings), and runs of the device's executor, which processes notified queues.
#pragma once

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

namespace viommu::fuzz {

// Guest RAM of fuzz-mmio, where the seed recorder's guest put its rings.
inline constexpr uint64_t kMmioRamBase = 0x4000'0000;
inline constexpr uint64_t kMmioRamSize = 1 << 20;

struct RegRead {
    uint32_t offset = 0;
    unsigned width = 4; // 1, 2, 4 or 8
    bool operator==(const RegRead&) const = default;
};
struct RegWrite {
    uint32_t offset = 0;
    unsigned width = 4;
    uint64_t value = 0;
    bool operator==(const RegWrite&) const = default;
};
struct RamWrite {
    uint32_t offset = 0; // from kMmioRamBase, inside RAM
    std::vector<uint8_t> bytes;
    bool operator==(const RamWrite&) const = default;
};
struct RunDevice {
    bool operator==(const RunDevice&) const = default;
};
using MmioOp = std::variant<RegRead, RegWrite, RamWrite, RunDevice>;

inline constexpr std::size_t kMaxMmioOps = 1024;
// Offsets reach this far: the 4 KiB window and what lies just past it.
inline constexpr uint32_t kMmioSpan = 0x1100;

class ByteReader;
class ByteWriter;
// A RamWrite's bytes after its action byte, shared with fuzz-pci's input (pci_scenario.h).
[[nodiscard]] RamWrite decode_ram_write(ByteReader& r);
void encode_ram_write(ByteWriter& w, const RamWrite& ram);

[[nodiscard]] std::vector<MmioOp> decode_mmio_ops(std::span<const uint8_t> input);
[[nodiscard]] std::vector<uint8_t> encode_mmio_ops(std::span<const MmioOp> ops);

} // namespace viommu::fuzz
