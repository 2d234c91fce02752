// Turns the buffers a driver describes into host segments of a DescriptorChain, for both ring formats
// (split §2.7, packed §2.8): every buffer and indirect table is checked to be guest RAM, and the chain's
// totals are bounded, before anything reaches the device.
//
// Hot path: add() is inlined into the rings' walks; it remembers the RAM region of the last buffer, so
// that most buffers are checked against one range instead of a search of the regions.
#pragma once

#include <cstdint>

#include "base/addr.h"
#include "base/expected.h"
#include "virtio/descriptor_chain.h"
#include "virtio/guest_memory.h"
#include "virtio/queue_error.h"

namespace viommu::virtio {

// §2.7.5.2: "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in total". A used element's
// (split) or used descriptor's (packed, §2.8.13) length is 32 bits wide: the device takes no larger chain
// of either format.
inline constexpr uint64_t kMaxChainBytes = uint64_t{1} << 32;

// The largest indirect table accepted. The spec bounds direct chains by the queue size; Linux's
// virtqueue_add_split() may put more entries than that in an indirect table, so the bound is the largest
// queue size, which no real driver reaches. It keeps a hostile table from making the walk long.
inline constexpr uint32_t kMaxIndirectEntries = 32768;

class BufferMapper {
public:
    explicit BufferMapper(GuestMemory& mem) : mem_(&mem) {}

    GuestMemory& memory() const { return *mem_; }
    const GuestMemory::HostRegion& last_region() const { return last_region_; }

    // Appends [addr, addr + len) to the chain as one segment per RAM region it lies in.
    [[gnu::always_inline]] Expected<void, QueueError> add(DescriptorChain& chain, uint64_t addr, uint32_t len,
                                                          bool writable)
    {
        if (len == 0)
            return unexpected(QueueError::kZeroLengthBuffer);
        if (chain.readable_bytes_ + chain.writable_bytes_ + len > kMaxChainBytes) // each term <= 2^32: no overflow
            return unexpected(QueueError::kChainTooLarge);
        const uint64_t offset = addr - last_region_.base; // wraps when below: then it fails the test below
        if (offset < last_region_.size && len <= last_region_.size - offset) {
            chain.append(Segment{last_region_.host + offset, len}, writable);
        } else {
            if (auto ok = add_slow(chain, addr, len, writable); !ok)
                return ok;
        }
        (writable ? chain.writable_bytes_ : chain.readable_bytes_) += len;
        return {};
    }

    // One descriptor's buffer, in the order the driver listed them: §2.7.4.2 and §2.8.17 "The driver MUST
    // place any device-writable descriptor elements after any device-readable descriptor elements."
    // seen_writable carries the order from one descriptor of a chain (or table) to the next.
    [[gnu::always_inline]] Expected<void, QueueError> add_descriptor(DescriptorChain& chain, uint64_t addr,
                                                                     uint32_t len, bool writable, bool& seen_writable)
    {
        if (!writable && seen_writable)
            return unexpected(QueueError::kReadableAfterWritable);
        seen_writable = writable;
        if (auto ok = add(chain, addr, len, writable); !ok)
            return ok;
        ++chain.descriptors_;
        return {};
    }

    // The number of 16-byte descriptors in an indirect table of `len` bytes at `addr`, once the table is
    // known to be RAM and of a length the device takes (§2.7.5.3.1, §2.8.7: a whole number of descriptors,
    // at least one).
    [[nodiscard]] Expected<uint32_t, QueueError> indirect_table(uint64_t addr, uint32_t len) const;

private:
    // A buffer in another region than the last one, or straddling adjacent regions (one segment each).
    [[nodiscard]] Expected<void, QueueError> add_slow(DescriptorChain& chain, uint64_t addr, uint32_t len,
                                                      bool writable);

    GuestMemory* mem_;
    GuestMemory::HostRegion last_region_;
};

} // namespace viommu::virtio
