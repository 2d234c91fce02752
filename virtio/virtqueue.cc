#include "virtio/virtqueue.h"

namespace viommu::virtio {

Expected<Virtqueue, QueueError> Virtqueue::create(GuestMemory& mem, uint32_t size, const QueueLayout& layout,
                                                  Format format)
{
    if (format == Format::kPacked) {
        auto ring = PackedQueue::create(mem, size, layout);
        if (!ring)
            return unexpected(ring.error());
        return Virtqueue(std::move(*ring));
    }
    auto ring = SplitQueue::create(mem, size, layout);
    if (!ring)
        return unexpected(ring.error());
    return Virtqueue(std::move(*ring));
}

bool Virtqueue::restore(const QueueIndices& indices)
{
    if (SplitQueue* s = split()) {
        s->restore(indices); // any 16-bit index is a split ring's
        return true;
    }
    return packed()->restore(indices);
}

} // namespace viommu::virtio
