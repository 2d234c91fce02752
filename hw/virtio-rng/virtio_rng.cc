#include "hw/virtio-rng/virtio_rng.h"

#include "virtio/chain_io.h"

namespace viommu::hw {

VirtioRng::VirtioRng(virtio::GuestMemory& mem, uint64_t seed)
    : DeviceBase("virtio-rng", kDeviceId, mem,
                 virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFIndirectDesc) |
                     virtio::feature(virtio::kFEventIdx),
                 {kQueueSize}),
      state_(seed ? seed : 0x9e3779b97f4a7c15ull)
{
}

// xorshift64*: small, fast and deterministic; this device models an entropy source, not a CSPRNG.
uint64_t VirtioRng::next()
{
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dull;
}

void VirtioRng::on_queue_notify(unsigned q)
{
    std::optional<virtio::DescriptorChain> chain;
        while (pop(q, chain)) {
        virtio::ChainWriter out(*chain);
        // §5.4.6.1: the device fills the writable part; a chain with only readable buffers gets nothing.
        while (out.remaining() > 0) {
            const uint64_t word = next();
            const uint64_t n = std::min<uint64_t>(8, out.remaining());
            (void)out.write(std::span(reinterpret_cast<const uint8_t*>(&word), n));
        }
        bytes_served_ += out.written();
        push(q, std::move(*chain), static_cast<uint32_t>(out.written()));
    }
    notify_used(q);
}

} // namespace viommu::hw
