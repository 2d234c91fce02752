#include "virtio/buffer_mapper.h"

#include <algorithm>

#include "base/checked.h"

namespace viommu::virtio {

namespace {
constexpr uint32_t kDescBytes = 16; // struct virtq_desc and struct pvirtq_desc alike
} // namespace

Expected<uint32_t, QueueError> BufferMapper::indirect_table(uint64_t addr, uint32_t len) const
{
    if (len == 0 || len % kDescBytes != 0 || len / kDescBytes > kMaxIndirectEntries)
        return unexpected(QueueError::kIndirectBadLength);
    if (!mem_->contains(GuestAddr(addr), len))
        return unexpected(QueueError::kBufferOutsideRam);
    return len / kDescBytes;
}

Expected<void, QueueError> BufferMapper::add_slow(DescriptorChain& chain, uint64_t addr, uint32_t len, bool writable)
{
    if (!last_byte(addr, len))
        return unexpected(QueueError::kBufferOutsideRam);
    uint64_t cur = addr;
    uint64_t left = len;
    while (left > 0) {
        const auto region = mem_->host_region(GuestAddr(cur));
        if (!region)
            return unexpected(QueueError::kBufferOutsideRam);
        last_region_ = *region;
        const uint64_t at = cur - region->base;
        const uint64_t n = std::min(left, region->size - at);
        chain.append(Segment{region->host + at, static_cast<uint32_t>(n)}, writable);
        cur += n; // cannot wrap: last_byte() checked the whole buffer
        left -= n;
    }
    return {};
}

} // namespace viommu::virtio
