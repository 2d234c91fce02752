// A device driver (struct device_driver): its name, bus, probe/remove and the devices bound to it.
#pragma once

#include <functional>
#include <string>

#include "guest-model/driver-core/klist.h"

namespace viommu::guest::driver_core {

class Bus;
class Device;

struct DriverSpec {
    std::string name;
    Bus* bus = nullptr;
    // 0 binds; -kEPROBE_DEFER asks to be retried later; -kENODEV/-kENXIO quietly say "not this device";
    // any other negative value is logged as a failed probe. Unset: binds every device it matches.
    std::function<int(Device&)> probe;
    std::function<void(Device&)> remove;
};

class Driver {
public:
    explicit Driver(DriverSpec spec) : spec_(std::move(spec)) {}
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    const std::string& name() const { return spec_.name; }
    Bus* bus() const { return spec_.bus; }
    bool registered() const { return bus_node_.attached(); }

    int call_probe(Device& dev) const { return spec_.probe ? spec_.probe(dev) : 0; }
    void call_remove(Device& dev) const
    {
        if (spec_.remove)
            spec_.remove(dev);
    }

    // The devices bound to this driver, in the order they bound.
    const KList<Device>& devices() const { return devices_; }

private:
    friend class DriverCore;
    DriverSpec spec_;
    KList<Driver>::Position bus_node_;
    KList<Device> devices_;
};

} // namespace viommu::guest::driver_core
