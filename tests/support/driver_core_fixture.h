// A guest's driver core for tests: a virtual clock, the kernel log (dynamic debug on, so every dev_dbg
// the kernel would print is checked), and buses whose match() is an ID table the test edits.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "guest-model/driver-core/driver_core.h"
#include "guest-model/kernel/errno.h"

namespace viommu::test {

using namespace viommu::guest;
using namespace viommu::guest::profiles;
using namespace viommu::guest::driver_core;
using namespace viommu::guest::kernel;

inline Profile load_profile(const std::string& spec)
{
    auto p = Profile::load(spec);
    if (!p)
        throw std::runtime_error(p.error());
    return std::move(*p);
}

// match(dev, drv): -EPROBE_DEFER while the device is "not ready", a configured error, 1 when the
// driver's name is among the device's compatible drivers, else 0.
struct TableMatch {
    std::map<std::string, std::set<std::string>> compatible;
    std::set<std::string> not_ready;
    std::map<std::string, int> error;

    int operator()(const Device& dev, const Driver& drv) const
    {
        if (not_ready.count(dev.name()))
            return -kEPROBE_DEFER;
        if (const auto it = error.find(dev.name()); it != error.end())
            return it->second;
        const auto it = compatible.find(dev.name());
        return it != compatible.end() && it->second.count(drv.name()) ? 1 : 0;
    }
};

struct CoreFixture {
    explicit CoreFixture(const std::string& profile_spec, DriverCoreOptions options = {})
        : profile(load_profile(profile_spec)), core(profile, log, clock, options)
    {
    }

    // A bus named name whose match() is the fixture's table.
    Bus& table_bus(const std::string& name = "test")
    {
        BusType type;
        type.name = name;
        type.match = [this](Device& dev, const Driver& drv) { return table(dev, drv); };
        return *core.bus_register(std::move(type)).value();
    }

    Device& add_device(Bus& bus, const std::string& name, std::set<std::string> compatible = {})
    {
        table.compatible[name] = std::move(compatible);
        auto dev = core.device_register({name, &bus, nullptr});
        if (!dev)
            throw std::runtime_error("device_register failed");
        return **dev;
    }

    Driver& add_driver(Bus& bus, const std::string& name, std::function<int(Device&)> probe = {})
    {
        auto drv = core.driver_register({name, &bus, std::move(probe), {}});
        if (!drv)
            throw std::runtime_error("driver_register failed");
        return **drv;
    }

    // The log's messages without timestamps, in order.
    std::vector<std::string> lines() const
    {
        std::vector<std::string> out;
        for (const LogRecord& r : log.records())
            out.push_back(r.text);
        return out;
    }
    // The messages from index `from` on, for checking what one step printed.
    std::vector<std::string> lines_since(std::size_t from) const
    {
        auto all = lines();
        return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
    }
    std::size_t mark() const { return log.records().size(); }

    VirtualClock clock;
    KernelLog log{clock};
    Profile profile;
    TableMatch table;
    DriverCore core;
};

// The name of the driver dev is bound to, or "(none)".
inline std::string bound_to(const Device& dev)
{
    return dev.bound() ? dev.driver()->name() : "(none)";
}

} // namespace viommu::test
