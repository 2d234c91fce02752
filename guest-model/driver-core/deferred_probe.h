// The deferred-probe lists of drivers/base/dd.c: a PENDING list that deferring devices join at the
// tail, and an ACTIVE list that a trigger (every successful bind, once enabled at late_initcall) moves
// all of PENDING onto. The deferred-probe work retries ACTIVE from head to tail; a device that defers
// again goes back to PENDING, and a bind during the pass splices PENDING onto ACTIVE, so the same pass
// keeps going until a whole sweep binds nothing.
//
// A device is on at most one list (dev->p->deferred_probe is a single node), so adding a device that
// is already queued keeps its place.
#pragma once

#include <functional>
#include <list>
#include <string>
#include <vector>

#include "guest-model/driver-core/device.h"
#include "guest-model/driver-core/semantics.h"
#include "guest-model/kernel/printk.h"

namespace viommu::guest::driver_core {

class DeferredProbe {
public:
    DeferredProbe(const DriverCoreSemantics& semantics, kernel::KernelLog& log) : semantics_(semantics), log_(log) {}

    // driver_deferred_probe_add(): "Added to deferred list".
    void add(Device& dev);
    // driver_deferred_probe_del(): "Removed from deferred list"; forgets the reason.
    void del(Device& dev);
    // driver_deferred_probe_trigger(): nothing before enable(); then PENDING moves to the tail of
    // ACTIVE and the work is queued.
    void trigger();
    // deferred_trigger_count: a probe that defers after a trigger happened during it triggers again.
    unsigned trigger_count() const { return trigger_count_; }

    // driver_deferred_probe_enable = true (deferred_probe_initcall()).
    void enable() { enabled_ = true; }
    bool enabled() const { return enabled_; }
    bool work_queued() const { return work_queued_; }

    // deferred_probe_work_func(): retries every device of ACTIVE through retry (bus_probe_device()),
    // until ACTIVE is empty; "Retrying from deferred list" for each.
    void run_work(const std::function<void(Device&)>& retry);

    // device_set_deferred_probe_reason(): the reason as devices_deferred will list it.
    void set_reason(Device& dev, std::string reason);

    // The devices on PENDING, in order (what devices_deferred lists).
    std::vector<Device*> pending() const { return {pending_.begin(), pending_.end()}; }
    std::size_t active_size() const { return active_.size(); }
    // The debugfs file devices_deferred: "name\treason\n" per pending device, or "name\n" before
    // d090b70ede02.
    std::string devices_deferred() const;

private:
    const DriverCoreSemantics& semantics_;
    kernel::KernelLog& log_;
    std::list<Device*> pending_;
    std::list<Device*> active_;
    unsigned trigger_count_ = 0;
    bool enabled_ = false;
    bool work_queued_ = false;
};

} // namespace viommu::guest::driver_core
