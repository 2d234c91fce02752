#include "guest-model/driver-core/deferred_probe.h"

#include "guest-model/driver-core/dev_printk.h"

namespace viommu::guest::driver_core {

void DeferredProbe::add(Device& dev)
{
    if (dev.on_deferred_list())
        return;
    dev_dbg(log_, dev, "Added to deferred list");
    pending_.push_back(&dev);
    dev.deferred_it_ = std::prev(pending_.end());
    dev.deferred_list_ = Device::DeferredList::pending;
}

void DeferredProbe::del(Device& dev)
{
    if (!dev.on_deferred_list())
        return;
    dev_dbg(log_, dev, "Removed from deferred list");
    (dev.deferred_list_ == Device::DeferredList::pending ? pending_ : active_).erase(dev.deferred_it_);
    dev.deferred_list_ = Device::DeferredList::none;
    dev.deferred_reason_.reset();
}

void DeferredProbe::trigger()
{
    if (!enabled_)
        return;
    ++trigger_count_;
    for (Device* dev : pending_)
        dev->deferred_list_ = Device::DeferredList::active;
    // splice keeps every device's iterator valid, now pointing into ACTIVE.
    active_.splice(active_.end(), pending_);
    work_queued_ = true;
}

void DeferredProbe::run_work(const std::function<void(Device&)>& retry)
{
    while (work_queued_) {
        work_queued_ = false;
        while (!active_.empty()) {
            Device& dev = *active_.front();
            active_.pop_front();
            dev.deferred_list_ = Device::DeferredList::none;
            // f0acf637d60f: the reason describes the last attempt, not an older one.
            if (semantics_.clear_reason_on_retry)
                dev.deferred_reason_.reset();
            dev_dbg(log_, dev, "Retrying from deferred list");
            retry(dev);
        }
    }
}

void DeferredProbe::set_reason(Device& dev, std::string reason)
{
    dev.deferred_reason_ = std::move(reason);
}

std::string DeferredProbe::devices_deferred() const
{
    // drivers/base/dd.c:deferred_devs_show(): "%s\t%s" with the reason (which ends in a newline) or
    // "\n"; before d090b70ede02 just "%s\n".
    std::string out;
    for (const Device* dev : pending_) {
        out += dev->name();
        if (semantics_.deferred_probe_reason) {
            out += '\t';
            if (dev->deferred_probe_reason())
                out += *dev->deferred_probe_reason();
        }
        out += '\n';
    }
    return out;
}

} // namespace viommu::guest::driver_core
