// A device (struct device with the parts of struct device_private the driver core keeps): its name,
// bus, parent and driver, its place on the deferred-probe lists, the reason it last gave for
// deferring, and its device links.
#pragma once

#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guest-model/driver-core/bus.h"
#include "guest-model/driver-core/driver.h"
#include "guest-model/driver-core/klist.h"

namespace viommu::guest::driver_core {

struct DeviceLink;

struct DeviceSpec {
    std::string name; // dev_name(), e.g. "0000:00:03.0"
    Bus* bus = nullptr;
    Device* parent = nullptr;
    // dev->platform_data: what the bus or the board attaches for match() and probe() to read (IDs,
    // resources); the driver core never looks at it.
    void* platform_data = nullptr;
};

// dev->links.status (DL_DEV_*).
enum class DevLinkStatus { no_driver, probing, driver_bound, unbinding };

class Device {
public:
    explicit Device(DeviceSpec spec)
        : name_(std::move(spec.name)), bus_(spec.bus), parent_(spec.parent), platform_data_(spec.platform_data)
    {
    }
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    const std::string& name() const { return name_; }
    Bus* bus() const { return bus_; }
    Device* parent() const { return parent_; }
    void* platform_data() const { return platform_data_; }
    // Set from the moment really_probe() picks a driver, so messages printed during the probe already
    // carry the driver's name.
    Driver* driver() const { return driver_; }
    // device_is_bound(): the probe finished and the device is on its driver's list.
    bool bound() const { return driver_node_.attached(); }
    bool registered() const { return registered_; }
    bool dead() const { return dead_; }

    // dev_driver_string(): the driver's name when there is one, else the bus's.
    std::string_view driver_string() const;

    bool on_deferred_list() const { return deferred_list_ != DeferredList::none; }
    // What dev_err_probe(-EPROBE_DEFER) last recorded: "<driver-or-bus>: <message>".
    const std::optional<std::string>& deferred_probe_reason() const { return deferred_reason_; }

    const std::vector<DeviceLink*>& supplier_links() const { return suppliers_; }
    const std::vector<DeviceLink*>& consumer_links() const { return consumers_; }
    DevLinkStatus link_status() const { return link_status_; }

private:
    friend class DriverCore;
    friend class DeferredProbe;
    friend class DeviceLinks;
    enum class DeferredList { none, pending, active };

    std::string name_;
    Bus* bus_;
    Device* parent_;
    void* platform_data_;
    Driver* driver_ = nullptr;
    bool registered_ = false;
    bool dead_ = false;
    KList<Device>::Position bus_node_;
    KList<Device>::Position driver_node_;
    DeferredList deferred_list_ = DeferredList::none;
    std::list<Device*>::iterator deferred_it_{};
    std::optional<std::string> deferred_reason_;
    std::vector<DeviceLink*> suppliers_;
    std::vector<DeviceLink*> consumers_;
    DevLinkStatus link_status_ = DevLinkStatus::no_driver;
};

inline std::string_view Device::driver_string() const
{
    if (driver_)
        return driver_->name();
    return bus_ ? std::string_view(bus_->name()) : std::string_view();
}

} // namespace viommu::guest::driver_core
