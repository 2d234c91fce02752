// Everything a driver can get wrong in a virtqueue, split (§2.7) or packed (§2.8). Each one makes the device give up
// (DeviceBase::fail -> NEEDS_RESET), the way QEMU's virtio_error() does; none of them is a crash.
#pragma once

#include <cstdint>
#include <string_view>

namespace viommu::virtio {

enum class QueueError : uint8_t {
    kBadSize,                // not in 1..32768 (split: not a power of two), or above the device's maximum
    kRingMisaligned,         // §2.7: descriptor table 16, available ring 2, used ring 4 bytes; §2.8.10.1:
                             // descriptor ring 16, event suppression areas 4 bytes
    kRingOutsideRam,         // an area of the ring is not inside one RAM region
    kAvailIndexAhead,        // avail.idx more than the queue size ahead of the device
    kHeadOutOfRange,         // a head index in the available ring >= queue size
    kNextOutOfRange,         // a NEXT index >= the size of the table it indexes
    kChainTooLong,           // more descriptors than the table holds: the chain loops
    kReadableAfterWritable,  // §2.7.4.2 device-writable descriptors must come last
    kZeroLengthBuffer,       // QEMU: "zero sized buffers are not allowed"
    kBufferOutsideRam,       // a buffer (or indirect table) is not guest RAM, or wraps past 2^64
    kChainTooLarge,          // §2.7.5.2 more than 2^32 bytes in total
    kIndirectNotNegotiated,  // VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC
    kNestedIndirect,         // §2.7.5.3.1 an indirect table inside an indirect table
    kIndirectWithNext,       // §2.7.5.3.1 INDIRECT and NEXT in one descriptor
    kIndirectBadLength,      // an indirect table of 0 bytes, not a multiple of 16, or too many entries
    kIndirectInList,         // §2.8.7 packed: an indirect descriptor in a list linked by NEXT
    kChainPartlyAvailable,   // §2.8.6 packed: a descriptor after the first of a list is not available
};

constexpr std::string_view describe(QueueError e)
{
    switch (e) {
    case QueueError::kBadSize: return "queue size is out of range or, for a split ring, not a power of two";
    case QueueError::kRingMisaligned: return "ring area is not aligned as the spec requires";
    case QueueError::kRingOutsideRam: return "ring area is not inside guest RAM";
    case QueueError::kAvailIndexAhead: return "available index runs more than the queue size ahead";
    case QueueError::kHeadOutOfRange: return "descriptor head index out of range";
    case QueueError::kNextOutOfRange: return "descriptor next index out of range";
    case QueueError::kChainTooLong: return "descriptor chain is longer than its table (looped descriptors)";
    case QueueError::kReadableAfterWritable: return "device-readable descriptor after a device-writable one";
    case QueueError::kZeroLengthBuffer: return "zero-sized buffer";
    case QueueError::kBufferOutsideRam: return "buffer is not inside guest RAM";
    case QueueError::kChainTooLarge: return "descriptor chain is longer than 2^32 bytes";
    case QueueError::kIndirectNotNegotiated: return "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
    case QueueError::kNestedIndirect: return "indirect table inside an indirect table";
    case QueueError::kIndirectWithNext: return "indirect descriptor with the NEXT flag";
    case QueueError::kIndirectBadLength: return "indirect table length is 0, not a multiple of 16, or too long";
    case QueueError::kIndirectInList: return "indirect descriptor inside a list of chained descriptors";
    case QueueError::kChainPartlyAvailable: return "descriptor in the middle of a chain is not available";
    }
    return "unknown queue error";
}

} // namespace viommu::virtio
