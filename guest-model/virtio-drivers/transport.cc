#include "guest-model/virtio-drivers/transport.h"

namespace viommu::guest::virtio_drivers {

DriverQueue* VirtioTransport::vq(unsigned index)
{
    return index < vqs_.size() && vqs_[index].ring ? &*vqs_[index].ring : nullptr;
}

void VirtioTransport::kick(unsigned index)
{
    if (DriverQueue* q = vq(index); q && q->kick_prepare()) {
        ++notifications_;
        notify(index);
    }
}

void VirtioTransport::wait_used(unsigned index)
{
    const DriverQueue* q = vq(index);
    while (cpu_.wait() && q && !q->has_used()) {
    }
}

void VirtioTransport::wait_idle()
{
    while (cpu_.wait()) {
    }
}

uint64_t VirtioTransport::config_read(uint32_t offset, unsigned size)
{
    // __virtio_cread_many(): retry until the generation is the same before and after.
    for (;;) {
        const uint32_t before = config_generation();
        const uint64_t value = device_config_read(offset, size);
        if (config_generation() == before)
            return value;
    }
}

void VirtioTransport::config_read_bytes(uint32_t offset, std::span<uint8_t> out)
{
    for (;;) {
        const uint32_t before = config_generation();
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = static_cast<uint8_t>(device_config_read(static_cast<uint32_t>(offset + i), 1));
        if (config_generation() == before)
            return;
    }
}

DriverQueue::Options VirtioTransport::ring_options(uint32_t num) const
{
    DriverQueue::Options options;
    options.size = num;
    // vring_create_virtqueue(): a packed ring when VIRTIO_F_RING_PACKED was negotiated.
    options.packed = negotiated_ & virtio::feature(virtio::kFRingPacked);
    options.event_idx = negotiated_ & virtio::feature(virtio::kFEventIdx);
    options.indirect = negotiated_ & virtio::feature(virtio::kFIndirectDesc);
    return options;
}

DriverQueue* VirtioTransport::install_queue(unsigned index, DriverQueue ring, std::function<void()> callback)
{
    if (vqs_.size() <= index)
        vqs_.resize(index + 1);
    vqs_[index].ring.emplace(std::move(ring));
    vqs_[index].callback = std::move(callback);
    return &*vqs_[index].ring;
}

void VirtioTransport::vring_interrupt(std::optional<unsigned> index)
{
    for (unsigned i = 0; i < vqs_.size(); ++i) {
        if (index && *index != i)
            continue;
        Vq& v = vqs_[i];
        if (v.ring && v.callback && v.ring->has_used())
            v.callback();
    }
}

void VirtioTransport::config_changed()
{
    if (config_callback_)
        config_callback_();
}

} // namespace viommu::guest::virtio_drivers
