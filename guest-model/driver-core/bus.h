// A bus type (struct bus_type): the callbacks a bus gives the driver core, and the bus's device and
// driver lists, both in registration order (bus_add_device()/bus_add_driver() append at the tail).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "guest-model/driver-core/klist.h"

namespace viommu::guest::driver_core {

class Device;
class Driver;

struct BusType {
    std::string name;
    // bus_type.match: 0 no match, > 0 match, -kEPROBE_DEFER "this device cannot be matched yet", any
    // other negative value a bus error. Unset, every driver on the bus matches (driver_match_device()).
    std::function<int(Device&, const Driver&)> match;
    // bus_type.probe: when set it runs instead of the driver's probe, with dev.driver() already set;
    // like pci_device_probe() it usually calls the driver's probe itself (Driver::call_probe()).
    std::function<int(Device&)> probe;
    // bus_type.remove: when set it runs instead of the driver's remove.
    std::function<void(Device&)> remove;
    // bus_type.dma_configure: runs before the probe. An IOMMU-translated bus returns -kEPROBE_DEFER
    // while the device's IOMMU instance is not registered yet (pci_dma_configure() through
    // of_iommu_configure()/viot_iommu_configure()).
    std::function<int(Device&)> dma_configure;
};

class Bus {
public:
    explicit Bus(BusType type) : type_(std::move(type)) {}
    Bus(const Bus&) = delete;
    Bus& operator=(const Bus&) = delete;

    const std::string& name() const { return type_.name; }
    const BusType& type() const { return type_; }
    // The drivers_autoprobe sysfs knob: when off, neither device_add() nor driver_register() probes.
    bool drivers_autoprobe() const { return drivers_autoprobe_; }
    void set_drivers_autoprobe(bool on) { drivers_autoprobe_ = on; }

    KList<Device>& devices() { return devices_; }
    KList<Driver>& drivers() { return drivers_; }
    const KList<Device>& devices() const { return devices_; }
    const KList<Driver>& drivers() const { return drivers_; }

    // The registered device of that name on this bus (bus_find_device_by_name()), or nullptr.
    Device* find_device(std::string_view name) const
    {
        const auto it = by_name_.find(name);
        return it == by_name_.end() ? nullptr : it->second;
    }

private:
    friend class DriverCore;
    // Names are unique per bus (sysfs refuses duplicates), and a boot adds thousands of devices: the
    // lookup must not be a walk of the list.
    std::unordered_map<std::string_view, Device*> by_name_;
    BusType type_;
    bool drivers_autoprobe_ = true;
    KList<Device> devices_;
    KList<Driver> drivers_;
};

} // namespace viommu::guest::driver_core
