// What a driver hands a virtqueue and gets back from it, whichever ring layout (split or packed) it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "base/addr.h"

namespace viommu::guest::virtio_drivers {

struct Buf {
    GuestAddr addr;
    uint32_t len = 0;
};

struct UsedBuf {
    uint64_t token = 0;
    uint32_t len = 0;
};

// The n-th buffer of a chain as virtqueue_add_sgs() lays it out: the out buffers (device-readable) first,
// then the in buffers (device-writable).
struct ChainBuf {
    const Buf& buf;
    bool writable;
};
inline ChainBuf chain_buf(std::span<const Buf> out, std::span<const Buf> in, std::size_t n)
{
    return n < out.size() ? ChainBuf{out[n], false} : ChainBuf{in[n - out.size()], true};
}

enum class AddError { kEmpty, kNoSpace, kNoMemory, kBroken };

// virtqueue_add()'s refusals before any descriptor is touched: a broken ring, no buffers (total_sg == 0)
// or no token (data == NULL).
inline std::optional<AddError> add_refusal(bool broken, std::size_t total, uint64_t token)
{
    if (broken)
        return AddError::kBroken;
    if (total == 0 || token == 0)
        return AddError::kEmpty;
    return std::nullopt;
}

// virtqueue_get_buf()'s checks of the id a device returned, with BAD_RING()'s message when it fails: an
// id beyond the ring, or one the driver has no buffer under (is_head false).
inline std::optional<std::string> bad_used_id(uint32_t id, uint32_t size, bool is_head)
{
    if (id >= size)
        return "id " + std::to_string(id) + " out of range";
    if (!is_head)
        return "id " + std::to_string(id) + " is not a head!";
    return std::nullopt;
}

// BAD_RING(): a ring its driver stopped trusting, and the first reason why; nothing more is added to it
// or returned from it.
class BadRing {
public:
    bool broken() const { return broken_; }
    const std::string& reason() const { return reason_; }
    void mark(std::string why)
    {
        if (!broken_) {
            broken_ = true;
            reason_ = std::move(why);
        }
    }

private:
    bool broken_ = false;
    std::string reason_;
};

} // namespace viommu::guest::virtio_drivers
