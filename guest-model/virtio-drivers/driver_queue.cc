#include "guest-model/virtio-drivers/driver_queue.h"

namespace viommu::guest::virtio_drivers {

Expected<DriverQueue, std::string> DriverQueue::create(virtio::GuestMemory& mem, mm::PhysAllocator& alloc,
                                                       const Options& options)
{
    if (options.packed) {
        auto packed = PackedDriverQueue::create(mem, alloc, options.size, options.event_idx, options.indirect);
        if (!packed)
            return unexpected(std::move(packed.error()));
        return DriverQueue(std::move(*packed));
    }
    auto split = SplitDriverQueue::create(mem, alloc, options.size, options.event_idx, options.indirect, options.ring_align);
    if (!split)
        return unexpected(std::move(split.error()));
    return DriverQueue(std::move(*split));
}

} // namespace viommu::guest::virtio_drivers
