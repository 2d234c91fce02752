// The request-script language of viommu-replay (docs/replay.md, "Request scripts"): one request or
// action a line, parsed completely before anything is sent, so a bad script changes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/expected.h"

namespace viommu::system::replay {

struct AttachOp {
    uint32_t domain, endpoint;
    bool bypass;
};
struct DetachOp {
    uint32_t domain, endpoint;
};
struct MapOp {
    uint32_t domain;
    uint64_t virt_start, virt_end, phys_start;
    uint32_t flags; // VIRTIO_IOMMU_MAP_F_*
};
struct UnmapOp {
    uint32_t domain;
    uint64_t virt_start, virt_end;
};
struct ProbeOp {
    uint32_t endpoint;
};
struct RawOp {
    std::vector<uint8_t> readable;
    uint32_t writable;
};
struct DmaOp {
    uint32_t endpoint;
    uint64_t addr;
    bool write;
    uint64_t len;
};
struct BypassOp {
    uint8_t value;
};
struct ResetOp {};

using Op = std::variant<AttachOp, DetachOp, MapOp, UnmapOp, ProbeOp, RawOp, DmaOp, BypassOp, ResetOp>;

struct Step {
    std::size_t line; // 1-based, comment and blank lines counted
    Op op;
};

struct ScriptError {
    std::size_t line;
    std::string message;
};

[[nodiscard]] Expected<std::vector<Step>, ScriptError> parse_script(std::string_view text);

// The op's word in the output ("attach", "map", ...).
std::string_view op_name(const Op& op);

} // namespace viommu::system::replay
