#include "virtio/notify_poster.h"

#include <utility>

#include <boost/asio/post.hpp>

namespace viommu::virtio {

NotifyPoster::NotifyPoster(DeviceBase& device, boost::asio::io_context::executor_type executor)
    : device_(device), executor_(std::move(executor)), alive_(std::make_shared<bool>(true))
{
}

NotifyPoster::~NotifyPoster() { *alive_ = false; }

void NotifyPoster::post(unsigned queue)
{
    if (queue >= device_.num_queues())
        return;
    pending_queues_ |= uint64_t{1} << queue;
    if (run_posted_)
        return;
    run_posted_ = true;
    // Processing happens on the device's executor, after the register write returns.
    std::weak_ptr<bool> alive = alive_;
    boost::asio::post(executor_, in_place_handler(handler_memory_, [this, alive] {
        if (auto a = alive.lock(); !a || !*a)
            return;
        run_posted_ = false;
        for (uint64_t pending = std::exchange(pending_queues_, 0); pending; pending &= pending - 1)
            device_.queue_notify(static_cast<unsigned>(__builtin_ctzll(pending)));
    }));
}

} // namespace viommu::virtio
