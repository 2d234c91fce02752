// A virtio-iommu driver for throughput and allocation measurements: request buffers are laid out in
// guest memory once (one slot per request in flight), chains are direct, and the event queue recycles
// its buffers, so sending requests and taking fault reports allocate nothing on either side.
// (guest-model/virtio-iommu/request_client.h is the general, allocating one.)
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include <linux/virtio_iommu.h>

#include "base/expected.h"
#include "guest-model/virtio-iommu/requests.h"
#include "guest-model/virtio-drivers/mmio_driver.h"

namespace viommu::guest::virtio_iommu {

class PreparedClient {
public:
    static constexpr uint32_t kSlotBytes = req::Encoded::kMaxReadable; // the largest readable part
    static constexpr uint32_t kTailRoom = 512 + req::kTailSize;         // a PROBE's writable part

    PreparedClient(const virtio_drivers::MmioDeviceHandle& device, uint32_t slots);
    PreparedClient(const PreparedClient&) = delete;
    PreparedClient& operator=(const PreparedClient&) = delete;

    // Negotiates every offered feature except `decline` and INDIRECT_DESC (indirect tables would be
    // allocated per request), sets up both queues and stocks the event queue.
    [[nodiscard]] Expected<void, std::string> bring_up(virtio::FeatureBits decline = 0);

    // Writes an encoded request's readable part into a slot and notes the size of its writable part
    // (at most kTailRoom: a PROBE of up to 512 bytes of properties).
    void stage(uint32_t slot, const req::Encoded& request)
    {
        stage_bytes(slot, request.readable().data(), request.readable_len, request.writable_len);
    }
    // Sends slots [0, count) with one notification and reaps them all; false if some did not come back.
    [[nodiscard]] bool submit(uint32_t count);
    // The tail status of a slot's last reply, read from the last four bytes of its writable part
    // (0xff if they cannot be read).
    uint8_t status(uint32_t slot) const;

    uint64_t faults_seen() const { return faults_seen_; }
    virtio_drivers::VirtioMmioDriver& driver() { return driver_; }

private:
    struct Staged {
        uint32_t readable = 0;
        uint32_t writable = 0;
    };
    void stage_bytes(uint32_t slot, const void* bytes, uint32_t readable, uint32_t writable);
    void on_events();

    virtio_drivers::VirtioMmioDriver driver_;
    uint32_t slots_;
    GuestAddr requests_, tails_, events_;
    Staged staged_[256] = {};
    uint64_t faults_seen_ = 0;
};

} // namespace viommu::guest::virtio_iommu
