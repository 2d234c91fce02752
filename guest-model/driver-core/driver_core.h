// The driver core of one guest: buses, devices and drivers, matching and probing with the semantics of
// drivers/base/dd.c and bus.c of the kernel the profile describes, deferred probe, device links, and
// the messages that kernel prints.
//
// Ordering model. Everything runs on the caller's thread in a fixed order, so a run is deterministic:
//  - device_add() and driver_register() probe synchronously, as the kernel does for synchronous drivers
//    (asynchronous probing is not modelled: no driver here asks for it).
//  - The deferred-probe work is a work item: a trigger queues it, and it runs when the model lets the
//    workqueue run: run_pending_work(), advance_time(), or the flushes inside late_initcall() and the
//    timeout, exactly where the kernel calls flush_work().
//  - Before late_initcall() triggers do nothing (driver_deferred_probe_enable is false), so devices
//    that defer during the initcalls wait on PENDING until then.
//  - Time only moves through advance_time(): the deferred-probe timeout is a delayed work on the
//    virtual clock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "guest-model/driver-core/bus.h"
#include "guest-model/driver-core/deferred_probe.h"
#include "guest-model/driver-core/device.h"
#include "guest-model/driver-core/device_links.h"
#include "guest-model/driver-core/driver.h"
#include "guest-model/driver-core/semantics.h"
#include "guest-model/kernel/clock.h"
#include "guest-model/kernel/printk.h"
#include "guest-model/profiles/profile.h"

namespace viommu::guest::driver_core {

struct DriverCoreOptions {
    // The deferred_probe_timeout= command-line parameter, in seconds; unset: the kernel's default.
    std::optional<int> deferred_probe_timeout;
};

// Counters for tools and benchmarks; they do not change what the model does.
struct DriverCoreStats {
    uint64_t match_calls = 0;   // bus match() invocations
    uint64_t probe_attempts = 0; // really_probe() entries: a matched device-driver pair was tried
    uint64_t probe_calls = 0;   // driver (or bus) probe callbacks actually called
    uint64_t binds = 0;         // driver_bound()
    uint64_t deferrals = 0;     // driver_deferred_probe_add() requests (match, link, dma_configure, probe)
};

class DriverCore {
public:
    DriverCore(const profiles::Profile& profile, kernel::KernelLog& log, kernel::VirtualClock& clock, DriverCoreOptions options = {});
    DriverCore(const DriverCore&) = delete;
    DriverCore& operator=(const DriverCore&) = delete;
    ~DriverCore();

    const DriverCoreSemantics& semantics() const { return semantics_; }
    kernel::KernelLog& log() { return log_; }
    const DriverCoreStats& stats() const { return stats_; }

    // bus_register(): -kEEXIST for a second bus of the same name.
    [[nodiscard]] Expected<Bus*, int> bus_register(BusType type);

    // device_initialize(): a device the core knows but that is not on its bus yet. Links may be added
    // to it (as a consumer) before device_add().
    Device& device_initialize(DeviceSpec spec);
    // device_add(): onto the bus (tail), then bus_probe_device(). -kEINVAL without a bus or twice.
    [[nodiscard]] Expected<void, int> device_add(Device& dev);
    // device_register() = device_initialize() + device_add().
    [[nodiscard]] Expected<Device*, int> device_register(DeviceSpec spec);
    // device_unregister(): off the bus and the deferred lists, unbound, links dropped. The object stays
    // valid (the core owns it), but dead.
    void device_unregister(Device& dev);

    // driver_register(): -kEBUSY for a duplicate name on the bus ("Error: Driver '%s' is already
    // registered, aborting..."), -kEINVAL without a bus, or the match error that stopped driver_attach()
    // (before 27c0d217340e), in which case the driver is not registered.
    [[nodiscard]] Expected<Driver*, int> driver_register(DriverSpec spec);
    // driver_unregister(): unbinds its devices, most recently bound first.
    void driver_unregister(Driver& drv);

    // device_link_add(consumer, supplier, flags): see DeviceLinks::add().
    [[nodiscard]] Expected<DeviceLink*, int> device_link_add(Device& consumer, Device& supplier, uint32_t flags = 0);

    // device_attach(): 1 bound, 0 no driver took it, < 0 the error that stopped the driver walk.
    int device_attach(Device& dev);
    // device_release_driver().
    void device_release_driver(Device& dev);

    // deferred_probe_initcall(): enable deferred probing, run it to completion twice (the second pass
    // after initcalls_done, so optional dependencies give up), then arm the timeout if it is > 0.
    void late_initcall();
    bool initcalls_done() const { return initcalls_done_; }
    // Lets the deferred-probe work run until nothing is queued.
    void run_pending_work();
    // Moves the virtual clock forward by ns, running queued work first and the timeout work when its
    // deadline passes.
    void advance_time(uint64_t ns);
    // The current driver_deferred_probe_timeout in seconds, and when its work fires (if armed).
    int deferred_probe_timeout() const { return timeout_s_; }
    std::optional<uint64_t> timeout_deadline() const { return timeout_deadline_; }

    // driver_deferred_probe_check_state(): what a subsystem waiting on an optional supplier (an IOMMU
    // on the OF path) returns instead of a plain -EPROBE_DEFER.
    int deferred_probe_check_state(Device& dev);
    // dev_err_probe(): returns err; logs "error %pe: <message>" (dev_err, or dev_dbg for -EPROBE_DEFER,
    // which also records the reason devices_deferred shows).
    int dev_err_probe(Device& dev, int err, std::string_view message);

    // What /sys/kernel/debug/devices_deferred would show.
    std::string devices_deferred() const { return deferred_.devices_deferred(); }
    std::vector<Device*> deferred_devices() const { return deferred_.pending(); }

    Bus* find_bus(std::string_view name) const;
    Device* find_device(std::string_view bus, std::string_view name) const;
    // driver_find(): the registered driver of that name on the bus.
    Driver* find_driver(const Bus& bus, std::string_view name) const;
    const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }

private:
    // dd.c, in the kernel's call order.
    void bus_probe_device(Device& dev);
    int device_attach_driver(Driver& drv, Device& dev);
    int driver_attach_device(Driver& drv, Device& dev);
    int driver_match_device(const Driver& drv, Device& dev);
    int driver_probe_device(Driver& drv, Device& dev);
    int really_probe(Device& dev, Driver& drv);
    int really_probe_before_5_14(Device& dev, Driver& drv);
    int call_driver_probe(Device& dev, Driver& drv);
    void log_probe_result(Device& dev, const Driver& drv, int ret);
    int device_links_check_suppliers(Device& dev);
    void driver_bound(Device& dev);
    void probe_failed_cleanup(Device& dev);
    void release_driver(Device& dev);
    void defer(Device& dev);
    void deferred_probe_timeout_work();
    void extend_deferred_probe_timeout();
    std::string err_name(int err) const;

    DriverCoreSemantics semantics_;
    kernel::KernelLog& log_;
    kernel::VirtualClock& clock_;
    DeferredProbe deferred_;
    DeviceLinks links_;
    std::vector<std::unique_ptr<Bus>> buses_;
    std::vector<std::unique_ptr<Device>> devices_;
    std::vector<std::unique_ptr<Driver>> drivers_;
    DriverCoreStats stats_;
    int timeout_s_;
    std::optional<uint64_t> timeout_deadline_;
    bool initcalls_done_ = false;
};

} // namespace viommu::guest::driver_core
