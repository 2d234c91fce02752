#include "guest-model/virtio-iommu/prepared_client.h"

#include <array>
#include <stdexcept>

#include "guest-model/virtio-iommu/fault_event.h"

namespace viommu::guest::virtio_iommu {

namespace {
constexpr unsigned kRequestQueue = 0;
constexpr unsigned kEventQueue = 1;
constexpr uint32_t kEventBuffers = 64;
} // namespace

PreparedClient::PreparedClient(const virtio_drivers::MmioDeviceHandle& device, uint32_t slots) : driver_(device), slots_(slots)
{
    if (slots == 0 || slots > 256)
        throw std::invalid_argument("PreparedClient: 1 to 256 slots");
    const auto req = device.allocator.alloc(uint64_t{kSlotBytes} * slots, 64);
    const auto tails = device.allocator.alloc(uint64_t{kTailRoom} * slots, 64);
    const auto events = device.allocator.alloc(uint64_t{FaultEvent::kSize} * kEventBuffers, 64);
    if (!req || !tails || !events)
        throw std::runtime_error("PreparedClient: no guest memory for its buffers");
    requests_ = *req;
    tails_ = *tails;
    events_ = *events;
}

Expected<void, std::string> PreparedClient::bring_up(virtio::FeatureBits decline)
{
    if (auto ok = driver_.probe(); !ok)
        return ok;
    driver_.reset();
    driver_.add_status(virtio::status::kAcknowledge);
    driver_.add_status(virtio::status::kDriver);
    decline |= virtio::feature(virtio::kFIndirectDesc);
    if (auto ok = driver_.finalize_features(driver_.device_features() & ~decline); !ok)
        return ok;
    if (auto q = driver_.setup_vq(kRequestQueue, 0, nullptr); !q)
        return unexpected(q.error());
    if (auto q = driver_.setup_vq(kEventQueue, 0, [this] { on_events(); }); !q)
        return unexpected(q.error());
    for (uint32_t i = 0; i < kEventBuffers; ++i) {
        const virtio_drivers::Buf in{GuestAddr(events_.value() + i * FaultEvent::kSize), FaultEvent::kSize};
        if (!driver_.vq(kEventQueue)->add({}, std::span(&in, 1), in.addr.value()))
            return unexpected(std::string("event queue full"));
    }
    driver_.driver_ok();
    driver_.kick(kEventQueue);
    driver_.wait_idle();
    return {};
}

void PreparedClient::on_events()
{
    virtio_drivers::DriverQueue* vq = driver_.vq(kEventQueue);
    while (auto used = vq->get_buf()) {
        ++faults_seen_;
        const virtio_drivers::Buf in{GuestAddr(used->token), FaultEvent::kSize};
        (void)vq->add({}, std::span(&in, 1), used->token);
    }
    driver_.kick(kEventQueue);
}

void PreparedClient::stage_bytes(uint32_t slot, const void* bytes, uint32_t readable, uint32_t writable)
{
    if (slot >= slots_ || readable > kSlotBytes || writable > kTailRoom || writable < req::kTailSize)
        throw std::invalid_argument("PreparedClient: slot or sizes out of range");
    (void)driver_.memory().write(GuestAddr(requests_.value() + uint64_t{slot} * kSlotBytes),
                                  std::span(static_cast<const uint8_t*>(bytes), readable));
    staged_[slot] = {readable, writable};
}

bool PreparedClient::submit(uint32_t count)
{
    virtio_drivers::DriverQueue* vq = driver_.vq(kRequestQueue);
    for (uint32_t i = 0; i < count; ++i) {
        const virtio_drivers::Buf out{GuestAddr(requests_.value() + uint64_t{i} * kSlotBytes), staged_[i].readable};
        const virtio_drivers::Buf in{GuestAddr(tails_.value() + uint64_t{i} * kTailRoom), staged_[i].writable};
        if (!vq->add(std::span(&out, 1), std::span(&in, 1), i + 1))
            return false;
    }
    driver_.kick(kRequestQueue);
    driver_.wait_used(kRequestQueue);
    uint32_t returned = 0;
    while (vq->get_buf())
        ++returned;
    return returned == count;
}

uint8_t PreparedClient::status(uint32_t slot) const
{
    const GuestAddr at(tails_.value() + uint64_t{slot} * kTailRoom + staged_[slot].writable - req::kTailSize);
    std::array<uint8_t, req::kTailSize> tail{};
    if (!driver_.memory().read(at, tail))
        return 0xff;
    return *req::tail_status(tail);
}

} // namespace viommu::guest::virtio_iommu
