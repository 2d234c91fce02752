// Available-buffer notifications on their way from a transport to its device (virtio v1.2 §2.9).
//
// A transport takes a notification inside a register write, like a trapped MMIO access in QEMU; the
// device processes the queue later, on its executor, the way QEMU's ioeventfd hands a notification to
// the main loop. Notifications coalesce like an ioeventfd's counter: the queues notified since the
// device last ran, and whether a run is already posted. One run at a time, so its handler memory is
// preallocated.
#pragma once

#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "base/handler_memory.h"
#include "virtio/device_base.h"

namespace viommu::virtio {

class NotifyPoster {
public:
    NotifyPoster(DeviceBase& device, boost::asio::io_context::executor_type executor);
    NotifyPoster(const NotifyPoster&) = delete;
    NotifyPoster& operator=(const NotifyPoster&) = delete;
    ~NotifyPoster();

    // The driver notified queue q. A queue that does not exist is ignored, as QEMU's
    // virtio_queue_notify() does.
    void post(unsigned queue);

private:
    DeviceBase& device_;
    boost::asio::io_context::executor_type executor_;
    uint64_t pending_queues_ = 0;
    bool run_posted_ = false;
    // A posted run that has not happened yet is dropped when the transport goes away.
    std::shared_ptr<PostedSlot> slot_;
};

} // namespace viommu::virtio
