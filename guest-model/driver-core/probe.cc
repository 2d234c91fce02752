// DriverCore: matching and probing, drivers/base/dd.c. Each function is named after its kernel
// counterpart and keeps its return-value conventions, which decide whether bus_for_each_drv() /
// bus_for_each_dev() go on: 0 continues, anything else stops the walk and is its result.
#include "guest-model/driver-core/dev_printk.h"
#include "guest-model/driver-core/driver_core.h"
#include "guest-model/kernel/errno.h"

namespace viommu::guest::driver_core {

void DriverCore::defer(Device& dev)
{
    ++stats_.deferrals;
    deferred_.add(dev);
}

// base.h:driver_match_device(), plus what __device_attach_driver() and __driver_attach() both do with
// its answer before they part ways: a deferring match queues the device, a failing one is logged.
int DriverCore::driver_match_device(const Driver& drv, Device& dev)
{
    ++stats_.match_calls;
    const auto& match = dev.bus()->type().match;
    const int ret = match ? match(dev, drv) : 1;
    if (ret == -kernel::kEPROBE_DEFER) {
        dev_dbg(log_, dev, "Device match requests probe deferral");
        defer(dev);
    } else if (ret < 0) {
        dev_dbg(log_, dev, "Bus failed to match device: {}", ret);
    }
    return ret;
}

// bus.c:bus_probe_device() -> dd.c:device_initial_probe(); the result is dropped.
void DriverCore::bus_probe_device(Device& dev)
{
    if (dev.bus()->drivers_autoprobe())
        device_attach(dev);
}

// dd.c:__device_attach(). A device whose driver was preset without binding (device_bind_driver()) is
// not modelled: dev->driver is only ever set by really_probe() here.
int DriverCore::device_attach(Device& dev)
{
    if (dev.dead())
        return 0;
    if (dev.driver())
        return 1;
    return dev.bus()->drivers().for_each([&](Driver& drv) { return device_attach_driver(drv, dev); });
}

// dd.c:__device_attach_driver(): called for each driver on the bus, in registration order.
int DriverCore::device_attach_driver(Driver& drv, Device& dev)
{
    int ret = driver_match_device(drv, dev);
    if (ret == 0)
        return 0;
    if (ret == -kernel::kEPROBE_DEFER) {
        // 25e9fbf0fd38 (dd.c:__device_attach_driver@v6.0): the device cannot match any driver now, so
        // neither this driver nor the ones after it are tried. Before it the code fell through and
        // probed the device with this driver as if match() had said yes.
        if (semantics_.match_defer_stops_attach)
            return ret;
    } else if (ret < 0) {
        return ret;
    }

    ret = driver_probe_device(drv, dev);
    // ef6dcbdd8eb2 (v5.14): 0 bound -> stop (1); a positive (inverted) probe error -> let the next
    // driver try (0); negative -> stop. Before it really_probe() already answered 1 or 0 (or < 0).
    if (semantics_.probe_error_flow) {
        if (ret < 0)
            return ret;
        return ret == 0 ? 1 : 0;
    }
    return ret;
}

// dd.c:__driver_attach(): called for each device on the bus when a driver registers; its result only
// stops driver_attach() for a match error, before 27c0d217340e.
int DriverCore::driver_attach_device(Driver& drv, Device& dev)
{
    const int ret = driver_match_device(drv, dev);
    if (ret == 0)
        return 0;
    if (ret == -kernel::kEPROBE_DEFER) {
        // 25e9fbf0fd38 (dd.c:__driver_attach@v6.0): skip this device, keep going with the others.
        if (semantics_.match_defer_stops_attach)
            return 0;
    } else if (ret < 0) {
        // 27c0d217340e (dd.c:__driver_attach@v6.2): a failed match with one device says nothing about
        // the others. Before it the error ended driver_attach() and failed the registration.
        return semantics_.match_error_continues_driver_attach ? 0 : ret;
    }
    // An already bound device is skipped (v4.19/v5.10 test dev->driver; 5.15+ get -EBUSY from
    // __driver_probe_device(), silently).
    if (!dev.driver() && !dev.dead())
        driver_probe_device(drv, dev);
    return 0;
}

int DriverCore::driver_probe_device(Driver& drv, Device& dev)
{
    const Bus& bus = *dev.bus();
    if (!semantics_.probe_error_flow) {
        // dd.c:driver_probe_device@v5.10: 1 bound, 0 any probe failure, < 0 early errors.
        if (!dev.registered())
            return -kernel::kENODEV;
        log_.print(kernel::LogLevel::debug, "bus: '{}': {}: matched device {} with driver {}", bus.name(),
                   "driver_probe_device", dev.name(), drv.name());
        return really_probe_before_5_14(dev, drv);
    }

    // dd.c:driver_probe_device() + __driver_probe_device()@v5.15: 0 bound, > 0 the probe's error
    // inverted, < 0 an error before the probe.
    const unsigned trigger_count = deferred_.trigger_count();
    int ret;
    if (dev.dead() || !dev.registered()) {
        ret = -kernel::kENODEV;
    } else if (dev.driver()) {
        ret = -kernel::kEBUSY;
    } else {
        // 448af2d28899 (v6.9) turned the pr_debug()s of the probe path into dev_dbg()s.
        if (semantics_.dev_printk_probe_messages)
            dev_dbg(log_, dev, "bus: '{}': {}: matched device with driver {}", bus.name(), "__driver_probe_device",
                    drv.name());
        else
            log_.print(kernel::LogLevel::debug, "bus: '{}': {}: matched device {} with driver {}", bus.name(),
                       "__driver_probe_device", dev.name(), drv.name());
        ret = really_probe(dev, drv);
    }
    if (ret == -kernel::kEPROBE_DEFER || ret == kernel::kEPROBE_DEFER) {
        defer(dev);
        // A bind happened while this device was probing: its trigger came too early for us.
        if (trigger_count != deferred_.trigger_count())
            deferred_.trigger();
    }
    return ret;
}

int DriverCore::device_links_check_suppliers(Device& dev)
{
    const DeviceLink* missing = DeviceLinks::check_suppliers(dev);
    if (!missing)
        return 0;
    const std::string& supplier = missing->supplier->name();
    // core.c:device_links_check_suppliers: silent in 4.19/5.10; dev_dbg from 1f0dfa0545e7 (v5.12);
    // dev_err_probe(), which records the reason, from 68223eeec708 (v5.15).
    if (semantics_.links_defer_reason)
        dev_err_probe(dev, -kernel::kEPROBE_DEFER, fmt::format("supplier {} not ready", supplier));
    else if (semantics_.links_defer_debug)
        dev_dbg(log_, dev, "probe deferral - supplier {} not ready", supplier);
    return -kernel::kEPROBE_DEFER;
}

// dd.c:really_probe@v5.15..v6.12.
int DriverCore::really_probe(Device& dev, Driver& drv)
{
    ++stats_.probe_attempts;
    const int link_ret = device_links_check_suppliers(dev);
    if (link_ret == -kernel::kEPROBE_DEFER)
        return link_ret;

    const Bus& bus = *dev.bus();
    if (semantics_.dev_printk_probe_messages)
        dev_dbg(log_, dev, "bus: '{}': {}: probing driver {} with device", bus.name(), "really_probe", drv.name());
    else
        log_.print(kernel::LogLevel::debug, "bus: '{}': {}: probing driver {} with device {}", bus.name(), "really_probe",
                   drv.name(), dev.name());

    dev.driver_ = &drv;
    if (bus.type().dma_configure) {
        // A failure here is negative: it stops the driver walk in __device_attach_driver() and is not
        // logged (no "requests probe deferral": that is call_driver_probe()'s).
        const int ret = bus.type().dma_configure(dev);
        if (ret) {
            probe_failed_cleanup(dev);
            return ret;
        }
    }
    const int ret = call_driver_probe(dev, drv);
    if (ret) {
        probe_failed_cleanup(dev);
        // "Return probe errors as positive values so that the callers can distinguish them."
        return -ret;
    }
    driver_bound(dev);
    if (semantics_.dev_printk_probe_messages)
        dev_dbg(log_, dev, "bus: '{}': {}: bound device to driver {}", bus.name(), "really_probe", drv.name());
    else
        log_.print(kernel::LogLevel::debug, "bus: '{}': {}: bound device {} to driver {}", bus.name(), "really_probe",
                   dev.name(), drv.name());
    return 0;
}

// dd.c:really_probe@v4.19/v5.10: every failure after the supplier check is logged here, after
// dev->driver has been cleared, and swallowed to 0 "so that the next driver can try its luck".
int DriverCore::really_probe_before_5_14(Device& dev, Driver& drv)
{
    ++stats_.probe_attempts;
    const unsigned local_trigger_count = deferred_.trigger_count();
    const auto defer_and_retrigger = [&] {
        defer(dev);
        if (local_trigger_count != deferred_.trigger_count())
            deferred_.trigger();
    };
    int ret = device_links_check_suppliers(dev);
    if (ret == -kernel::kEPROBE_DEFER)
        defer_and_retrigger();
    if (ret)
        return ret;

    const Bus& bus = *dev.bus();
    log_.print(kernel::LogLevel::debug, "bus: '{}': {}: probing driver {} with device {}", bus.name(), "really_probe",
               drv.name(), dev.name());
    dev.driver_ = &drv;
    ret = bus.type().dma_configure ? bus.type().dma_configure(dev) : 0;
    if (ret == 0) {
        ++stats_.probe_calls;
        ret = bus.type().probe ? bus.type().probe(dev) : drv.call_probe(dev);
    }
    if (ret == 0) {
        driver_bound(dev);
        log_.print(kernel::LogLevel::debug, "bus: '{}': {}: bound device {} to driver {}", bus.name(), "really_probe",
                   dev.name(), drv.name());
        return 1;
    }
    probe_failed_cleanup(dev);
    log_probe_result(dev, drv, ret);
    if (ret == -kernel::kEPROBE_DEFER)
        defer_and_retrigger();
    return 0;
}

// dd.c:call_driver_probe@v5.15 (e1499647c69c): the bus's probe if it has one, else the driver's; the
// result is logged while dev->driver is still set.
int DriverCore::call_driver_probe(Device& dev, Driver& drv)
{
    ++stats_.probe_calls;
    const BusType& bus = dev.bus()->type();
    const int ret = bus.probe ? bus.probe(dev) : drv.call_probe(dev);
    log_probe_result(dev, drv, ret);
    return ret;
}

void DriverCore::log_probe_result(Device& dev, const Driver& drv, int ret)
{
    if (ret == 0)
        return;
    if (ret == -kernel::kEPROBE_DEFER) {
        dev_dbg(log_, dev, "Driver {} requests probe deferral", drv.name());
    } else if (ret == -kernel::kENODEV || ret == -kernel::kENXIO) {
        if (semantics_.dev_printk_probe_messages)
            dev_dbg(log_, dev, "probe with driver {} rejects match {}", drv.name(), ret);
        else
            log_.print(kernel::LogLevel::debug, "{}: probe of {} rejects match {}", drv.name(), dev.name(), ret);
    } else if (semantics_.dev_printk_probe_messages) {
        // 32de4b4f9dfa (v6.9): an unexpected probe error is an error, with the device's prefix.
        dev_err(log_, dev, "probe with driver {} failed with error {}", drv.name(), ret);
    } else {
        log_.print(kernel::LogLevel::warning, "{}: probe of {} failed with error {}", drv.name(), dev.name(), ret);
    }
}

// The unwinding at really_probe()'s probe_failed/pinctrl_bind_failed labels that the model can see:
// links go back (device_links_no_driver()) and the driver is forgotten.
void DriverCore::probe_failed_cleanup(Device& dev)
{
    DeviceLinks::no_driver(dev);
    dev.driver_ = nullptr;
}

// dd.c:driver_bound(): on the driver's list, consumers released, off the deferred lists, and every
// pending device gets another chance.
void DriverCore::driver_bound(Device& dev)
{
    Driver& drv = *dev.driver();
    if (semantics_.dev_printk_probe_messages)
        dev_dbg(log_, dev, "driver: '{}': {}: bound to device", drv.name(), "driver_bound");
    else
        log_.print(kernel::LogLevel::debug, "driver: '{}': {}: bound to device '{}'", drv.name(), "driver_bound", dev.name());
    drv.devices_.add_tail(dev, dev.driver_node_);
    DeviceLinks::driver_bound(dev);
    deferred_.del(dev);
    deferred_.trigger();
    ++stats_.binds;
}

// dd.c:__device_release_driver(): consumers first (device_links_unbind_consumers()), then remove().
void DriverCore::release_driver(Device& dev)
{
    Driver* drv = dev.driver();
    if (!drv)
        return;
    for (Device* consumer : DeviceLinks::consumers_to_unbind(dev))
        release_driver(*consumer);
    const BusType& bus = dev.bus()->type();
    if (bus.remove)
        bus.remove(dev);
    else
        drv->call_remove(dev);
    DeviceLinks::driver_cleanup(dev);
    dev.driver_ = nullptr;
    drv->devices_.remove(dev.driver_node_);
}

void DriverCore::device_release_driver(Device& dev)
{
    release_driver(dev);
}

} // namespace viommu::guest::driver_core
