// A driver's handler on a level-triggered interrupt line (request_irq() on INTx or a virtio-mmio
// line): each rising edge posts the handler to the guest's executor, where it runs asynchronously, as
// the CPU takes an interrupt between instructions. A handler still posted when its driver goes away
// does nothing.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "base/bus.h"
#include "base/handler_memory.h"

namespace viommu::guest::virtio_drivers {

class EdgeIrqHandler final : public IrqLine {
public:
    EdgeIrqHandler(boost::asio::io_context::executor_type executor, std::function<void()> handler)
        : executor_(executor), handler_(std::move(handler)), slot_(std::make_shared<PostedSlot>())
    {
    }
    EdgeIrqHandler(const EdgeIrqHandler&) = delete;
    EdgeIrqHandler& operator=(const EdgeIrqHandler&) = delete;
    ~EdgeIrqHandler() override { slot_->owner_alive = false; }

    void set_level(bool high) override
    {
        const bool rising = high && !line_high_;
        line_high_ = high;
        if (!rising)
            return;
        post_in_slot(executor_, slot_, [this] { handler_(); });
    }
    // The line is no longer this handler's (free_irq()).
    void forget_level() { line_high_ = false; }

private:
    boost::asio::io_context::executor_type executor_;
    std::function<void()> handler_;
    bool line_high_ = false;
    std::shared_ptr<PostedSlot> slot_; // for the one handler in flight

};

} // namespace viommu::guest::virtio_drivers
