#include "virtio/notify_poster.h"

#include <utility>

#include <boost/asio/post.hpp>

namespace viommu::virtio {

NotifyPoster::NotifyPoster(DeviceBase& device, boost::asio::io_context::executor_type executor)
    : device_(device), executor_(std::move(executor)), slot_(std::make_shared<PostedSlot>())
{
}

NotifyPoster::~NotifyPoster() { slot_->owner_alive = false; }

void NotifyPoster::post(unsigned queue)
{
    if (queue >= device_.num_queues())
        return;
    pending_queues_ |= uint64_t{1} << queue;
    if (run_posted_)
        return;
    run_posted_ = true;
    // Processing happens on the device's executor, after the register write returns.
    post_in_slot(executor_, slot_, [this] {
        run_posted_ = false;
        for (uint64_t pending = std::exchange(pending_queues_, 0); pending; pending &= pending - 1)
            device_.queue_notify(static_cast<unsigned>(__builtin_ctzll(pending)));
    });
}

} // namespace viommu::virtio
