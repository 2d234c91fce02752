// What fuzz-pci feeds a virtio-iommu behind the virtio-pci transport: configuration space reads and
// writes (a little past the 256 bytes too), reads and writes of the modern BAR (BAR 4) and the MSI-X BAR
// (BAR 1) at any offset a little past their end and any width, bytes written into guest RAM (where a
// driver would put rings), and runs of the device's executor.
#pragma once

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "tests/fuzz/mmio_scenario.h"

namespace viommu::fuzz {

struct ConfigRead {
    uint32_t offset = 0;
    unsigned width = 4; // 1, 2, 4 or 8
    bool operator==(const ConfigRead&) const = default;
};
struct ConfigWrite {
    uint32_t offset = 0;
    unsigned width = 4;
    uint32_t value = 0;
    bool operator==(const ConfigWrite&) const = default;
};
struct BarRead {
    unsigned bar = 4; // 4 (modern) or 1 (MSI-X)
    uint32_t offset = 0;
    unsigned width = 4;
    bool operator==(const BarRead&) const = default;
};
struct BarWrite {
    unsigned bar = 4;
    uint32_t offset = 0;
    unsigned width = 4;
    uint64_t value = 0;
    bool operator==(const BarWrite&) const = default;
};
// RAM writes and device runs are fuzz-mmio's (mmio_scenario.h), over the same RAM.
using PciOp = std::variant<ConfigRead, ConfigWrite, BarRead, BarWrite, RamWrite, RunDevice>;

inline constexpr std::size_t kMaxPciOps = 1024;
// Offsets reach this far: 256 bytes of configuration space, a 16 KiB modern BAR, and a little past.
inline constexpr uint32_t kPciConfigSpan = 0x110;
inline constexpr uint32_t kPciBarSpan = 0x4100;

[[nodiscard]] std::vector<PciOp> decode_pci_ops(std::span<const uint8_t> input);
[[nodiscard]] std::vector<uint8_t> encode_pci_ops(std::span<const PciOp> ops);

} // namespace viommu::fuzz
