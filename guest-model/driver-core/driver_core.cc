// DriverCore: registration (core.c:device_add/device_del, bus.c:bus_add_driver, driver.c), the
// deferred-probe initcall, its timeout on the virtual clock, and the helpers drivers call.
#include "guest-model/driver-core/driver_core.h"

#include <algorithm>

#include "guest-model/driver-core/dev_printk.h"
#include "guest-model/kernel/errno.h"

namespace viommu::guest::driver_core {

DriverCore::DriverCore(const profiles::Profile& profile, kernel::KernelLog& log, kernel::VirtualClock& clock, DriverCoreOptions options)
    : semantics_(DriverCoreSemantics::from(profile)), log_(log), clock_(clock), deferred_(semantics_, log),
      timeout_s_(options.deferred_probe_timeout.value_or(semantics_.default_deferred_probe_timeout))
{
}

DriverCore::~DriverCore() = default;

Expected<Bus*, int> DriverCore::bus_register(BusType type)
{
    if (find_bus(type.name))
        return unexpected(-kernel::kEEXIST);
    buses_.push_back(std::make_unique<Bus>(std::move(type)));
    return buses_.back().get();
}

Bus* DriverCore::find_bus(std::string_view name) const
{
    for (const auto& bus : buses_)
        if (bus->name() == name)
            return bus.get();
    return nullptr;
}

Device* DriverCore::find_device(std::string_view bus, std::string_view name) const
{
    const Bus* b = find_bus(bus);
    return b ? b->find_device(name) : nullptr;
}

Driver* DriverCore::find_driver(const Bus& bus, std::string_view name) const
{
    for (const auto& drv : drivers_)
        if (drv->registered() && drv->bus() == &bus && drv->name() == name)
            return drv.get();
    return nullptr;
}

Device& DriverCore::device_initialize(DeviceSpec spec)
{
    devices_.push_back(std::make_unique<Device>(std::move(spec)));
    return *devices_.back();
}

Expected<void, int> DriverCore::device_add(Device& dev)
{
    Bus* bus = dev.bus();
    if (!bus || dev.registered() || dev.dead() ||
        std::none_of(buses_.begin(), buses_.end(), [&](const auto& b) { return b.get() == bus; }))
        return unexpected(-kernel::kEINVAL);
    // kobject_add() refuses a second sysfs entry of the same name on the bus.
    if (bus->find_device(dev.name()))
        return unexpected(-kernel::kEEXIST);
    log_.print(kernel::LogLevel::debug, "device: '{}': {}", dev.name(), "device_add");
    log_.print(kernel::LogLevel::debug, "bus: '{}': add device {}", bus->name(), dev.name());
    bus->devices().add_tail(dev, dev.bus_node_);
    bus->by_name_.emplace(dev.name(), &dev);
    dev.registered_ = true;
    bus_probe_device(dev);
    return {};
}

Expected<Device*, int> DriverCore::device_register(DeviceSpec spec)
{
    Device& dev = device_initialize(std::move(spec));
    if (auto ok = device_add(dev); !ok)
        return unexpected(ok.error());
    return &dev;
}

void DriverCore::device_unregister(Device& dev)
{
    if (!dev.registered())
        return;
    log_.print(kernel::LogLevel::debug, "device: '{}': {}", dev.name(), "device_unregister");
    dev.dead_ = true;
    // bus.c:bus_remove_device().
    dev.bus()->devices().remove(dev.bus_node_);
    dev.bus()->by_name_.erase(dev.name());
    log_.print(kernel::LogLevel::debug, "bus: '{}': remove device {}", dev.bus()->name(), dev.name());
    release_driver(dev);
    deferred_.del(dev);
    links_.remove_all(dev);
    dev.registered_ = false;
}

Expected<Driver*, int> DriverCore::driver_register(DriverSpec spec)
{
    Bus* bus = spec.bus;
    if (!bus || std::none_of(buses_.begin(), buses_.end(), [&](const auto& b) { return b.get() == bus; }))
        return unexpected(-kernel::kEINVAL);
    if (find_driver(*bus, spec.name)) {
        log_.print(kernel::LogLevel::err, "Error: Driver '{}' is already registered, aborting...", spec.name);
        return unexpected(-kernel::kEBUSY);
    }
    drivers_.push_back(std::make_unique<Driver>(std::move(spec)));
    Driver& drv = *drivers_.back();
    // bus.c:bus_add_driver(): at the tail of the bus's drivers, then driver_attach().
    log_.print(kernel::LogLevel::debug, "bus: '{}': add driver {}", bus->name(), drv.name());
    bus->drivers().add_tail(drv, drv.bus_node_);
    if (bus->drivers_autoprobe()) {
        const int error = bus->devices().for_each([&](Device& dev) { return driver_attach_device(drv, dev); });
        if (error) {
            // out_del_list: the driver is not registered. Devices it bound before the failing one keep
            // pointing at it, as in the kernel (where its private data is then freed under them).
            bus->drivers().remove(drv.bus_node_);
            return unexpected(error);
        }
    }
    extend_deferred_probe_timeout();
    return &drv;
}

void DriverCore::driver_unregister(Driver& drv)
{
    if (!drv.registered())
        return;
    // bus.c:bus_remove_driver() -> dd.c:driver_detach(), which releases from the list's tail.
    drv.bus()->drivers().remove(drv.bus_node_);
    log_.print(kernel::LogLevel::debug, "bus: '{}': remove driver {}", drv.bus()->name(), drv.name());
    while (Device* dev = drv.devices_.last())
        release_driver(*dev);
}

Expected<DeviceLink*, int> DriverCore::device_link_add(Device& consumer, Device& supplier, uint32_t flags)
{
    return links_.add(consumer, supplier, flags);
}

void DriverCore::late_initcall()
{
    // dd.c:deferred_probe_initcall().
    deferred_.enable();
    deferred_.trigger();
    // "Sort as many dependencies as possible before exiting initcalls"
    run_pending_work();
    initcalls_done_ = true;
    // "Trigger deferred probe again, this time we won't defer anything that is optional"
    deferred_.trigger();
    run_pending_work();
    if (timeout_s_ > 0)
        timeout_deadline_ = clock_.now() + static_cast<uint64_t>(timeout_s_) * kernel::kNsecPerSec;
}

void DriverCore::run_pending_work()
{
    deferred_.run_work([this](Device& dev) { bus_probe_device(dev); });
}

void DriverCore::advance_time(uint64_t ns)
{
    run_pending_work();
    const uint64_t target = clock_.now() + ns;
    while (timeout_deadline_ && *timeout_deadline_ <= target) {
        clock_.advance_to(*timeout_deadline_);
        timeout_deadline_.reset();
        deferred_probe_timeout_work();
        run_pending_work();
    }
    clock_.advance_to(target);
}

// dd.c:deferred_probe_timeout_work_func(): stop waiting for optional suppliers, retry everything
// once more, and name what is still stuck.
void DriverCore::deferred_probe_timeout_work()
{
    timeout_s_ = 0;
    deferred_.trigger();
    run_pending_work();
    for (Device* dev : deferred_.pending()) {
        if (!semantics_.pending_with_reason) {
            dev_info(log_, *dev, "deferred probe pending");
            continue;
        }
        // 7c41da586e9f (v6.8) adds the reason, 6aeb8850e0f3 (v6.9) raises it to a warning.
        const kernel::LogLevel level = semantics_.pending_reason_warning ? kernel::LogLevel::warning : kernel::LogLevel::info;
        const std::string& reason = dev->deferred_probe_reason() ? *dev->deferred_probe_reason() : "(reason unknown)";
        dev_printk(log_, level, *dev, "deferred probe pending: {}", reason);
    }
}

// dd.c:deferred_probe_extend_timeout() (2b28a1a84a0e, v5.19), called by driver_register(): an armed
// timeout starts over.
void DriverCore::extend_deferred_probe_timeout()
{
    if (!semantics_.extend_timeout_on_driver_register || !timeout_deadline_)
        return;
    timeout_deadline_ = clock_.now() + static_cast<uint64_t>(timeout_s_) * kernel::kNsecPerSec;
    log_.print(kernel::LogLevel::debug, "Extended deferred probe timeout by {} secs", timeout_s_);
}

int DriverCore::deferred_probe_check_state(Device& dev)
{
    if (!semantics_.check_state_modules_aware) {
        // dd.c:driver_deferred_probe_check_state@v4.19. dev_WARN() prints a full WARNING splat; the
        // model keeps its first line and the message (CPU, modules and backtrace are not modelled).
        if (!initcalls_done_)
            return -kernel::kEPROBE_DEFER;
        if (timeout_s_ == 0) {
            log_.print(kernel::LogLevel::warning, "------------[ cut here ]------------");
            dev_warn(log_, dev, "deferred probe timeout, ignoring dependency");
            return -kernel::kETIMEDOUT;
        }
        dev_warn(log_, dev, "ignoring dependency for device, assuming no driver");
        return -kernel::kENODEV;
    }
    // c8c43cee29f6: without modules nothing can still come; with them, wait for the timeout.
    if (!semantics_.modules && initcalls_done_) {
        dev_warn(log_, dev, "ignoring dependency for device, assuming no driver");
        return -kernel::kENODEV;
    }
    if (timeout_s_ == 0 && initcalls_done_) {
        dev_warn(log_, dev, "deferred probe timeout, ignoring dependency");
        return -kernel::kETIMEDOUT;
    }
    return -kernel::kEPROBE_DEFER;
}

std::string DriverCore::err_name(int err) const
{
    // "%pe" prints the symbolic name only with CONFIG_SYMBOLIC_ERRNAME.
    return semantics_.symbolic_errname ? kernel::errno_symbol(err) : fmt::format("{}", err);
}

int DriverCore::dev_err_probe(Device& dev, int err, std::string_view message)
{
    // core.c:dev_err_probe@v5.10..v6.6.
    if (err != -kernel::kEPROBE_DEFER) {
        dev_err(log_, dev, "error {}: {}", err_name(err), message);
        return err;
    }
    if (semantics_.deferred_probe_reason)
        deferred_.set_reason(dev, fmt::format("{}: {}", dev.driver_string(), message));
    dev_dbg(log_, dev, "error {}: {}", err_name(err), message);
    return err;
}

} // namespace viommu::guest::driver_core
