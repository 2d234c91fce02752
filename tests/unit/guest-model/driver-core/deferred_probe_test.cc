// Deferred probe (drivers/base/dd.c): the PENDING and ACTIVE lists, the trigger after every bind, the
// retry order, the late_initcall passes, and devices_deferred.
#include <catch2/catch.hpp>

#include "tests/support/driver_core_fixture.h"

using namespace viommu::test;
using Lines = std::vector<std::string>;

namespace {

// A driver whose probe defers while `ready` does not hold for the device, recording every call.
struct Recorder {
    std::vector<std::string> calls;
    std::set<std::string> ready;

    std::function<int(Device&)> probe()
    {
        return [this](Device& dev) {
            calls.push_back(dev.name());
            return ready.count(dev.name()) ? 0 : -kEPROBE_DEFER;
        };
    }
};

} // namespace

TEST_CASE("deferrals before late_initcall wait on PENDING; no trigger runs before it", "[unit][driver-core][deferred]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    Recorder r;
    g.add_driver(bus, "drvA", r.probe());
    g.add_device(bus, "dev0", {"drvA"});
    g.add_device(bus, "dev1", {"drvA"});
    r.ready = {"dev0", "dev1"};
    g.add_driver(bus, "drvOther"); // registering binds nothing and triggers nothing
    g.core.run_pending_work();

    CHECK(r.calls == std::vector<std::string>{"dev0", "dev1"});
    CHECK(g.core.deferred_devices().size() == 2);
}

TEST_CASE("late_initcall retries deferred devices in the order they first deferred", "[unit][driver-core][deferred]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    Recorder r;
    g.add_driver(bus, "drvA", r.probe());
    for (const char* name : {"dev2", "dev0", "dev1"})
        g.add_device(bus, name, {"drvA"});
    r.calls.clear();
    r.ready = {"dev0", "dev1", "dev2"};
    const auto mark = g.mark();
    g.core.late_initcall();

    CHECK(r.calls == std::vector<std::string>{"dev2", "dev0", "dev1"});
    CHECK(g.core.deferred_devices().empty());
    const auto lines = g.lines_since(mark);
    CHECK(lines.front() == "test dev2: Retrying from deferred list");
}

TEST_CASE("a device that defers again waits on PENDING until the next bind", "[unit][driver-core][deferred]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    Recorder r;
    g.add_driver(bus, "drvA", r.probe());
    g.add_device(bus, "consumer", {"drvA"});
    g.core.late_initcall();
    CHECK(r.calls == std::vector<std::string>{"consumer", "consumer", "consumer"}); // add, pass 1, pass 2

    // A later bind (a module's driver probing its device) triggers, and the work retries the consumer.
    r.ready.insert("consumer");
    g.add_driver(bus, "drvB");
    g.add_device(bus, "supplier", {"drvB"});
    CHECK(r.calls.size() == 3); // the work has not run yet
    CHECK(g.core.deferred_devices().empty()); // the trigger moved it to ACTIVE
    g.core.run_pending_work();
    CHECK(r.calls.size() == 4);
    CHECK(g.core.find_device("test", "consumer")->bound());
}

TEST_CASE("a bind during the deferred work splices PENDING back into the same pass", "[unit][driver-core][deferred]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    std::vector<std::string> calls;
    Device* y = nullptr;
    bool y_ready = false;
    // x needs y bound; y needs y_ready. Both defer first, so PENDING is x, y.
    g.add_driver(bus, "drvA", [&](Device& dev) {
        calls.push_back(dev.name());
        if (dev.name() == "x")
            return y && y->bound() ? 0 : -kEPROBE_DEFER;
        return y_ready ? 0 : -kEPROBE_DEFER;
    });
    g.add_device(bus, "x", {"drvA"});
    y = &g.add_device(bus, "y", {"drvA"});
    calls.clear();
    y_ready = true;
    g.core.late_initcall();
    // Pass 1: x defers (back to PENDING), y binds (trigger: PENDING [x] onto ACTIVE), x binds.
    CHECK(calls == std::vector<std::string>{"x", "y", "x"});
    CHECK(g.core.find_device("test", "x")->bound());
}

TEST_CASE("a bind during a probe that then defers re-triggers the deferring device", "[unit][driver-core][deferred]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    int parent_probes = 0;
    g.add_driver(bus, "child-drv");
    g.add_driver(bus, "parent-drv", [&](Device& dev) {
        // The first probe registers a child that binds at once (a trigger), then defers anyway.
        if (++parent_probes == 1) {
            g.table.compatible["child"] = {"child-drv"};
            REQUIRE(g.core.device_register({"child", dev.bus(), &dev}));
            return -kEPROBE_DEFER;
        }
        return 0;
    });
    g.core.late_initcall();
    g.add_device(bus, "parent", {"parent-drv"});

    // The trigger count changed during the probe, so the parent went straight to ACTIVE: the work
    // retries it although nothing binds after it deferred.
    CHECK(g.core.deferred_devices().empty());
    g.core.run_pending_work();
    CHECK(parent_probes == 2);
    CHECK(g.core.find_device("test", "parent")->bound());
}

TEST_CASE("devices_deferred lists pending devices with the reason dev_err_probe recorded", "[unit][driver-core][deferred]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [&](Device& dev) {
        if (dev.name() == "dev0")
            return g.core.dev_err_probe(dev, -kEPROBE_DEFER, "waiting for regulator vdd");
        return -kEPROBE_DEFER;
    });
    const auto mark = g.mark();
    g.add_device(bus, "dev0", {"drvA"});
    g.add_device(bus, "dev1", {"drvA"});

    CHECK(g.core.devices_deferred() == "dev0\tdrvA: waiting for regulator vdd\ndev1\t\n");
    const auto lines = g.lines_since(mark);
    CHECK(std::count(lines.begin(), lines.end(), "drvA dev0: error -EPROBE_DEFER: waiting for regulator vdd") == 1);
}

TEST_CASE("4.19's devices_deferred lists names only", "[unit][driver-core][deferred][d090b70ede02]")
{
    CoreFixture g("4.19.300");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [&](Device& dev) { return g.core.dev_err_probe(dev, -kEPROBE_DEFER, "later"); });
    g.add_device(bus, "dev0", {"drvA"});
    CHECK(g.core.devices_deferred() == "dev0\n");
}

TEST_CASE("from 5.12 a retry forgets the reason of the attempt before it", "[unit][driver-core][deferred][f0acf637d60f]")
{
    for (const auto& [version, listing] :
         {std::pair{"5.10", "dev0\tdrvA: first\n"}, std::pair{"5.10.28", "dev0\t\n"}, std::pair{"6.1", "dev0\t\n"}}) {
        CoreFixture g(version);
        Bus& bus = g.table_bus();
        int attempt = 0;
        g.add_driver(bus, "drvA", [&](Device& dev) {
            return ++attempt == 1 ? g.core.dev_err_probe(dev, -kEPROBE_DEFER, "first") : -kEPROBE_DEFER;
        });
        g.add_device(bus, "dev0", {"drvA"});
        g.core.late_initcall();
        INFO(version);
        CHECK(g.core.devices_deferred() == listing);
    }
}

TEST_CASE("dev_err_probe logs other errors as errors and returns them", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [&](Device& dev) { return g.core.dev_err_probe(dev, -kEIO, "reset failed"); });
    g.add_device(bus, "dev0", {"drvA"});
    CHECK(g.log.dmesg(LogLevel::info) == "[    0.000000] drvA dev0: error -EIO: reset failed\n"
                                         "[    0.000000] drvA: probe of dev0 failed with error -5\n");
}

TEST_CASE("without CONFIG_SYMBOLIC_ERRNAME %pe prints the number", "[unit][driver-core]")
{
    auto profile = Profile::from_json(
        R"({"name": "tiny", "version": "6.1", "config": {"CONFIG_SYMBOLIC_ERRNAME": "n"}})", "tiny.json");
    REQUIRE(profile);
    VirtualClock clock;
    KernelLog log(clock);
    DriverCore core(*profile, log, clock);
    BusType type;
    type.name = "test";
    Bus& bus = *core.bus_register(std::move(type)).value();
    REQUIRE(core.driver_register({"drvA", &bus, [&](Device& dev) { return core.dev_err_probe(dev, -kEIO, "x"); }, {}}));
    REQUIRE(core.device_register({"dev0", &bus, nullptr}));
    CHECK(log.dmesg(LogLevel::err) == "[    0.000000] drvA dev0: error -5: x\n");
}

TEST_CASE("unregistering a deferred device takes it off the deferred list", "[unit][driver-core][deferred]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [](Device&) { return -kEPROBE_DEFER; });
    Device& dev = g.add_device(bus, "dev0", {"drvA"});
    const auto mark = g.mark();
    g.core.device_unregister(dev);
    CHECK(g.lines_since(mark) == Lines{"device: 'dev0': device_unregister", "bus: 'test': remove device dev0",
                                       "test dev0: Removed from deferred list"});
    CHECK(g.core.deferred_devices().empty());
    CHECK(dev.dead());
    g.core.late_initcall(); // nothing left to retry
    CHECK(g.core.stats().probe_attempts == 1);
}
