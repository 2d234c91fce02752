// virtio-rng (virtio v1.2 §5.4, device ID 4): one request queue whose device-writable buffers the device
// fills with random bytes. The bytes come from a seeded generator, so a run is reproducible.
//
// viommu's smallest complete device: the first thing the Quick start drives through the virtio core.
#pragma once

#include <cstdint>

#include "virtio/device_base.h"

namespace viommu::hw {

class VirtioRng final : public virtio::DeviceBase {
public:
    static constexpr uint32_t kDeviceId = 4;
    static constexpr uint16_t kQueueSize = 64;

    VirtioRng(virtio::GuestMemory& mem, uint64_t seed);

    uint64_t bytes_served() const { return bytes_served_; }

private:
    void on_queue_notify(unsigned q) override;
    uint64_t next();

    uint64_t state_;
    uint64_t bytes_served_ = 0;
};

} // namespace viommu::hw
