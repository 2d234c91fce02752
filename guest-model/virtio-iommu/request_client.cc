#include "guest-model/virtio-iommu/request_client.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include <linux/virtio_ids.h>

#include <fmt/format.h>

namespace viommu::guest::virtio_iommu {

namespace {
constexpr unsigned kRequestQueue = 0;
constexpr unsigned kEventQueue = 1;
} // namespace

IommuRequestClient::IommuRequestClient(const virtio_drivers::MmioDeviceHandle& device)
    : owned_driver_(std::make_unique<virtio_drivers::VirtioMmioDriver>(device)), driver_(*owned_driver_)
{
}

IommuRequestClient::IommuRequestClient(virtio_drivers::VirtioTransport& transport) : driver_(transport) {}

Expected<void, std::string> IommuRequestClient::bring_up(const Options& options)
{
    if (auto ok = driver_.probe(); !ok)
        return unexpected(ok.error());
    if (driver_.device_id() != VIRTIO_ID_IOMMU)
        return unexpected(fmt::format("device ID {} is not a virtio-iommu (23)", driver_.device_id()));
    driver_.reset();
    // A second bring-up (a device reset) replaces the event buffers: the reset device holds none.
    for (GuestAddr buffer : event_buffers_)
        driver_.allocator().free(buffer, event_buffer_size_);
    event_buffers_.clear();
    driver_.add_status(virtio::status::kAcknowledge);
    driver_.add_status(virtio::status::kDriver);
    if (auto ok = driver_.finalize_features(driver_.device_features() & options.accept); !ok)
        return unexpected(ok.error());
    // The request queue is polled; the event queue's interrupt reads the fault reports.
    const virtio_drivers::VqRequest queues[] = {{kRequestQueue, nullptr}, {kEventQueue, [this] { on_events(); }}};
    if (auto ok = driver_.find_vqs(queues); !ok)
        return unexpected(ok.error());
    event_buffer_size_ = options.event_buffer_size;
    for (uint32_t i = 0; i < options.event_buffers; ++i) {
        const auto buf = driver_.allocator().alloc(event_buffer_size_);
        if (!buf)
            return unexpected(std::string("no guest memory for event buffers"));
        event_buffers_.push_back(*buf);
        if (auto ok = add_event_buffer(*buf); !ok)
            return ok;
    }
    driver_.driver_ok();
    driver_.kick(kEventQueue);
    driver_.wait_idle();
    return {};
}

Expected<void, std::string> IommuRequestClient::add_event_buffer(GuestAddr buffer)
{
    const virtio_drivers::Buf in{buffer, event_buffer_size_};
    if (!driver_.vq(kEventQueue)->add({}, std::span(&in, 1), buffer.value()))
        return unexpected(std::string("event queue full"));
    return {};
}

void IommuRequestClient::on_events()
{
    // viommu_event_handler(): read each report, then give the buffer back to the device.
    virtio_drivers::DriverQueue* vq = driver_.vq(kEventQueue);
    while (auto used = vq->get_buf()) {
        const GuestAddr buffer(used->token);
        if (used->len == FaultEvent::kSize) {
            std::array<uint8_t, FaultEvent::kSize> report{};
            (void)driver_.memory().read(buffer, report);
            faults_.push_back(*parse_fault_event(report));
        } else {
            ++malformed_events_;
        }
        (void)add_event_buffer(buffer);
    }
    driver_.kick(kEventQueue);
}

std::vector<FaultEvent> IommuRequestClient::take_faults()
{
    driver_.wait_idle();
    return std::exchange(faults_, {});
}

void IommuRequestClient::split(GuestAddr at, uint32_t len, std::vector<virtio_drivers::Buf>& out) const
{
    const uint32_t step = segment_size_ ? segment_size_ : len;
    for (uint32_t done = 0; done < len; done += std::min(step, len - done))
        out.push_back({GuestAddr(at.value() + done), std::min(step, len - done)});
}

Expected<std::vector<IommuReply>, std::string>
IommuRequestClient::send_batch(std::span<const std::vector<uint8_t>> readables, uint32_t writable_len)
{
    virtio_drivers::DriverQueue* vq = driver_.vq(kRequestQueue);
    if (!vq)
        return unexpected(std::string("the request queue is not set up"));
    flights_.clear();
    mm::PhysAllocator& alloc = driver_.allocator();
    auto release = [&] {
        for (const InFlight& f : flights_) {
            if (f.out_len)
                alloc.free(f.out, f.out_len);
            if (writable_len)
                alloc.free(f.in, writable_len);
        }
    };
    for (const std::vector<uint8_t>& readable : readables) {
        InFlight f{};
        f.out_len = static_cast<uint32_t>(readable.size());
        f.token = next_token_++;
        const auto out = f.out_len ? alloc.alloc(f.out_len) : std::optional<GuestAddr>(GuestAddr(0));
        const auto in = writable_len ? alloc.alloc(writable_len) : std::optional<GuestAddr>(GuestAddr(0));
        if (!out || !in) {
            release();
            return unexpected(std::string("no guest memory for the request"));
        }
        f.out = *out;
        f.in = *in;
        flights_.push_back(f);
        (void)driver_.memory().write(f.out, readable);
        (void)driver_.memory().fill(f.in, 0xff, writable_len);
        outs_.clear();
        ins_.clear();
        split(f.out, f.out_len, outs_);
        split(f.in, writable_len, ins_);
        if (!vq->add(outs_, ins_, f.token)) {
            release();
            return unexpected(std::string("request queue full"));
        }
    }
    driver_.kick(kRequestQueue);
    driver_.wait_used(kRequestQueue);

    std::vector<IommuReply> replies(flights_.size());
    std::size_t got = 0;
    while (auto used = vq->get_buf()) {
        for (std::size_t i = 0; i < flights_.size(); ++i) {
            if (flights_[i].token != used->token)
                continue;
            IommuReply& r = replies[i];
            r.used_len = used->len;
            r.written.resize(std::min(used->len, writable_len));
            (void)driver_.memory().read(flights_[i].in, r.written);
            ++got;
        }
    }
    release();
    if (got != flights_.size())
        return unexpected(fmt::format("the device did not return {} of {} requests (device status {:#x})",
                                      flights_.size() - got, flights_.size(), driver_.status()));
    return replies;
}

Expected<IommuReply, std::string> IommuRequestClient::send(std::span<const uint8_t> readable, uint32_t writable_len)
{
    const std::vector<uint8_t> one(readable.begin(), readable.end());
    auto replies = send_batch(std::span(&one, 1), writable_len);
    if (!replies)
        return unexpected(replies.error());
    return std::move((*replies)[0]);
}

Expected<IommuReply, std::string> IommuRequestClient::send_attach(uint32_t domain, uint32_t endpoint, uint32_t flags)
{
    return send(req::encode(req::Attach{.domain = domain, .endpoint = endpoint, .flags = flags}));
}

Expected<IommuReply, std::string> IommuRequestClient::send_detach(uint32_t domain, uint32_t endpoint)
{
    return send(req::encode(req::Detach{.domain = domain, .endpoint = endpoint}));
}

Expected<IommuReply, std::string> IommuRequestClient::send_map(uint32_t domain, uint64_t virt_start, uint64_t virt_end,
                                                              uint64_t phys_start, uint32_t flags)
{
    return send(req::encode(req::Map{
        .domain = domain, .virt_start = virt_start, .virt_end = virt_end, .phys_start = phys_start, .flags = flags}));
}

Expected<IommuReply, std::string> IommuRequestClient::send_unmap(uint32_t domain, uint64_t virt_start, uint64_t virt_end)
{
    return send(req::encode(req::Unmap{.domain = domain, .virt_start = virt_start, .virt_end = virt_end}));
}

Expected<IommuReply, std::string> IommuRequestClient::send_probe(uint32_t endpoint)
{
    return send(req::encode(req::Probe{.endpoint = endpoint, .probe_size = read_config().probe_size}));
}

namespace {
std::optional<uint8_t> tail_status(const Expected<IommuReply, std::string>& reply)
{
    return reply ? reply->status_at(0) : std::nullopt;
}
} // namespace

std::optional<uint8_t> IommuRequestClient::attach(uint32_t domain, uint32_t endpoint, uint32_t flags)
{
    return tail_status(send_attach(domain, endpoint, flags));
}

std::optional<uint8_t> IommuRequestClient::detach(uint32_t domain, uint32_t endpoint)
{
    return tail_status(send_detach(domain, endpoint));
}

std::optional<uint8_t> IommuRequestClient::map(uint32_t domain, uint64_t virt_start, uint64_t virt_end,
                                               uint64_t phys_start, uint32_t flags)
{
    return tail_status(send_map(domain, virt_start, virt_end, phys_start, flags));
}

std::optional<uint8_t> IommuRequestClient::unmap(uint32_t domain, uint64_t virt_start, uint64_t virt_end)
{
    return tail_status(send_unmap(domain, virt_start, virt_end));
}

std::optional<IommuReply> IommuRequestClient::probe(uint32_t endpoint)
{
    auto reply = send_probe(endpoint);
    if (!reply || reply->used_len == 0)
        return std::nullopt;
    return std::move(*reply);
}

virtio_iommu_config IommuRequestClient::read_config()
{
    virtio_iommu_config c{};
    driver_.config_read_bytes(0, std::span(reinterpret_cast<uint8_t*>(&c), sizeof c));
    return c;
}

void IommuRequestClient::write_bypass(uint8_t value)
{
    driver_.config_write(offsetof(virtio_iommu_config, bypass), 1, value);
}

} // namespace viommu::guest::virtio_iommu
