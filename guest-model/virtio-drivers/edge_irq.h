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
        : executor_(executor), handler_(std::move(handler)), alive_(std::make_shared<bool>(true))
    {
    }
    EdgeIrqHandler(const EdgeIrqHandler&) = delete;
    EdgeIrqHandler& operator=(const EdgeIrqHandler&) = delete;
    ~EdgeIrqHandler() override { *alive_ = false; }

    void set_level(bool high) override
    {
        const bool rising = high && !line_high_;
        line_high_ = high;
        if (!rising)
            return;
        std::weak_ptr<bool> alive = alive_;
        boost::asio::post(executor_, in_place_handler(handler_memory_, [this, alive] {
            if (auto a = alive.lock(); a && *a)
                handler_();
        }));
    }
    // The line is no longer this handler's (free_irq()).
    void forget_level() { line_high_ = false; }

private:
    boost::asio::io_context::executor_type executor_;
    std::function<void()> handler_;
    bool line_high_ = false;
    HandlerMemory handler_memory_; // for the one handler in flight
    std::shared_ptr<bool> alive_;
};

} // namespace viommu::guest::virtio_drivers
