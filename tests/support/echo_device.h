// A test device with one queue: it copies each chain's readable bytes into its writable part, XORed
// with 0x5a so that a test can tell a device write from a leftover, and reports how much it wrote.
#pragma once

#include <algorithm>
#include <array>

#include "virtio/chain_io.h"
#include "virtio/device_base.h"

namespace viommu::test {

class EchoDevice final : public virtio::DeviceBase {
public:
    static constexpr uint32_t kDeviceId = 0x7ffe; // not assigned by the spec
    static constexpr uint8_t kXor = 0x5a;

    explicit EchoDevice(virtio::GuestMemory& mem, uint16_t queue_size = 256,
                        virtio::FeatureBits extra = virtio::feature(virtio::kFIndirectDesc) |
                                                    virtio::feature(virtio::kFEventIdx) |
                                                    virtio::feature(virtio::kFRingReset))
        : DeviceBase("echo", kDeviceId, mem, virtio::feature(virtio::kFVersion1) | extra, {queue_size})
    {
    }

    uint64_t chains = 0;
    uint64_t notifies = 0;
    std::array<uint8_t, 16> config{}; // a writable configuration space

    uint32_t config_size() const override { return sizeof(config); }
    void bump_config() { config_changed(); }

private:
    void on_queue_notify(unsigned q) override
    {
        ++notifies;
        std::optional<virtio::DescriptorChain> chain;
        while (pop(q, chain)) {
            virtio::ChainReader in(*chain);
            virtio::ChainWriter out(*chain);
            uint8_t buf[512];
            while (in.remaining() > 0 && out.remaining() > 0) {
                const auto n = static_cast<std::size_t>(std::min<uint64_t>({sizeof buf, in.remaining(), out.remaining()}));
                (void)in.read(std::span(buf, n));
                for (std::size_t i = 0; i < n; ++i)
                    buf[i] ^= kXor;
                (void)out.write(std::span<const uint8_t>(buf, n));
            }
            ++chains;
            push(q, std::move(*chain), static_cast<uint32_t>(out.written()));
        }
        notify_used(q);
    }
    void read_config(uint32_t offset, std::span<uint8_t> out) const override
    {
        std::copy_n(config.begin() + offset, out.size(), out.begin());
    }
    void write_config(uint32_t offset, std::span<const uint8_t> in) override
    {
        std::copy(in.begin(), in.end(), config.begin() + offset);
    }
};

} // namespace viommu::test
