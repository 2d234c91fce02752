// A bare virtio-iommu driver: it brings the device up, sends the request bytes it is given through the
// request queue, waits for each to come back, and keeps the event queue stocked with buffers, reading
// every fault report the device writes. It adds no policy of its own, so the device sees exactly what
// a test, a fuzzer or a request script wrote (the Linux-like driver is guest-model/virtio-iommu/driver.h).
//
// Requests are built and reports read by the guest's request codec (guest-model/virtio-iommu/requests.h,
// fault_event.h), on the kernel's own <linux/virtio_iommu.h> layouts, as a guest driver would.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <linux/virtio_iommu.h>

#include "base/expected.h"
#include "guest-model/virtio-iommu/fault_event.h"
#include "guest-model/virtio-iommu/requests.h"
#include "guest-model/virtio-drivers/mmio_driver.h"

namespace viommu::guest::virtio_iommu {

struct IommuReply {
    uint32_t used_len = 0;        // 0: the device returned the buffer unwritten
    std::vector<uint8_t> written; // the device-writable part as the device left it (used_len bytes)
    // The status byte of the tail, read at `tail_offset` of the writable part, if the device wrote it.
    std::optional<uint8_t> status_at(std::size_t tail_offset) const
    {
        return req::tail_status(written, used_len, tail_offset);
    }
};

class IommuRequestClient {
public:
    struct Options {
        // Features to accept from those offered; all of them by default.
        virtio::FeatureBits accept = ~virtio::FeatureBits{0};
        uint32_t event_buffers = 64;
        // Writable bytes of each event buffer (a fault report's size unless a test wants another).
        uint32_t event_buffer_size = FaultEvent::kSize;
    };

    // Over a virtio-mmio device of the guest's machine (the client owns that driver), or over any
    // transport the caller has probed nothing on yet (virtio-pci, on our device or QEMU's).
    explicit IommuRequestClient(const virtio_drivers::MmioDeviceHandle& device);
    explicit IommuRequestClient(virtio_drivers::VirtioTransport& transport);
    IommuRequestClient(const IommuRequestClient&) = delete;
    IommuRequestClient& operator=(const IommuRequestClient&) = delete;

    // Reset, negotiate, set up the request and event queues, stock the event queue, DRIVER_OK.
    [[nodiscard]] Expected<void, std::string> bring_up(const Options& options);
    [[nodiscard]] Expected<void, std::string> bring_up() { return bring_up(Options{}); }

    // Sends one request: `readable` bytes, then `writable_len` device-writable bytes (pre-filled with
    // 0xff so that unwritten bytes show). Fails when the device does not return it (it gave up).
    [[nodiscard]] Expected<IommuReply, std::string> send(std::span<const uint8_t> readable, uint32_t writable_len);
    // Splits both parts of every later request into descriptors of at most `bytes` bytes (0, the
    // default: one descriptor a part), as a driver with scattered buffers does. The device must answer
    // the same whatever the split (virtio v1.2 §2.7.4: no particular arrangement of descriptors).
    void set_segment_size(uint32_t bytes) { segment_size_ = bytes; }
    // Sends several requests with one notification, as a batching driver does.
    [[nodiscard]] Expected<std::vector<IommuReply>, std::string>
    send_batch(std::span<const std::vector<uint8_t>> readables, uint32_t writable_len);

    // Sends an encoded request, with its whole reply.
    [[nodiscard]] Expected<IommuReply, std::string> send(const req::Encoded& request)
    {
        return send(request.readable(), request.writable_len);
    }
    // Typed requests, built by the codec, with their whole reply.
    [[nodiscard]] Expected<IommuReply, std::string> send_attach(uint32_t domain, uint32_t endpoint, uint32_t flags);
    [[nodiscard]] Expected<IommuReply, std::string> send_detach(uint32_t domain, uint32_t endpoint);
    [[nodiscard]] Expected<IommuReply, std::string> send_map(uint32_t domain, uint64_t virt_start, uint64_t virt_end,
                                                             uint64_t phys_start, uint32_t flags);
    [[nodiscard]] Expected<IommuReply, std::string> send_unmap(uint32_t domain, uint64_t virt_start, uint64_t virt_end);
    // PROBE with room for probe_size bytes of properties (read from the configuration) and the tail.
    [[nodiscard]] Expected<IommuReply, std::string> send_probe(uint32_t endpoint);

    // The same, reduced to the status byte; nullopt when the buffer came back unwritten.
    std::optional<uint8_t> attach(uint32_t domain, uint32_t endpoint, uint32_t flags = 0);
    std::optional<uint8_t> detach(uint32_t domain, uint32_t endpoint);
    std::optional<uint8_t> map(uint32_t domain, uint64_t virt_start, uint64_t virt_end, uint64_t phys_start,
                               uint32_t flags);
    std::optional<uint8_t> unmap(uint32_t domain, uint64_t virt_start, uint64_t virt_end);
    std::optional<IommuReply> probe(uint32_t endpoint);

    // Fault reports received since the last call, in order.
    std::vector<FaultEvent> take_faults();
    // Event buffers returned with a length that is not a fault report's.
    uint64_t malformed_events() const { return malformed_events_; }

    virtio_iommu_config read_config();
    void write_bypass(uint8_t value);
    virtio_drivers::VirtioTransport& driver() { return driver_; }

private:
    void on_events();
    // One part of a request as descriptors of at most segment_size_ bytes.
    void split(GuestAddr at, uint32_t len, std::vector<virtio_drivers::Buf>& out) const;
    Expected<void, std::string> add_event_buffer(GuestAddr buffer);

    std::unique_ptr<virtio_drivers::VirtioMmioDriver> owned_driver_;
    virtio_drivers::VirtioTransport& driver_;
    uint32_t event_buffer_size_ = FaultEvent::kSize;
    std::vector<GuestAddr> event_buffers_;
    std::vector<FaultEvent> faults_;
    uint64_t malformed_events_ = 0;
    uint64_t next_token_ = 1;
    uint32_t segment_size_ = 0;
    // send_batch()'s working lists, kept so that a batch allocates only its replies.
    struct InFlight {
        GuestAddr out, in;
        uint32_t out_len;
        uint64_t token;
    };
    std::vector<InFlight> flights_;
    std::vector<virtio_drivers::Buf> outs_, ins_;
};

} // namespace viommu::guest::virtio_iommu
