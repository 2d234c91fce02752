// Matching and probing (drivers/base/dd.c): which results stop the device's walk over drivers
// (__device_attach_driver) and which stop a driver's walk over devices (__driver_attach), per kernel.
#include <catch2/catch.hpp>

#include "tests/support/driver_core_fixture.h"

using namespace viommu::test;
using Lines = std::vector<std::string>;

namespace {
// Either side of 25e9fbf0fd38 in the 5.15.y tree (253ec5fb8405 landed in 5.15.66).
constexpr const char* kBeforeFix = "5.15.65";
constexpr const char* kAfterFix = "5.15.66";
} // namespace

TEST_CASE("after the fix, a match deferral stops the device's walk over drivers", "[unit][driver-core][25e9fbf0fd38]")
{
    CoreFixture g(kAfterFix);
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA");
    g.add_driver(bus, "drvB");
    g.table.not_ready.insert("dev0");
    const auto mark = g.mark();
    const uint64_t matches = g.core.stats().match_calls;
    Device& dev = g.add_device(bus, "dev0", {"drvA", "drvB"});

    CHECK(g.lines_since(mark) == Lines{"device: 'dev0': device_add", "bus: 'test': add device dev0",
                                       "test dev0: Device match requests probe deferral",
                                       "test dev0: Added to deferred list"});
    CHECK(g.core.stats().match_calls == matches + 1); // drvB was never asked
    CHECK_FALSE(dev.bound());
    CHECK(dev.on_deferred_list());
}

TEST_CASE("before the fix, a match deferral still probes the device with that driver", "[unit][driver-core][25e9fbf0fd38]")
{
    CoreFixture g(kBeforeFix);
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA");
    g.add_driver(bus, "drvB");
    g.table.not_ready.insert("dev0");
    const auto mark = g.mark();
    Device& dev = g.add_device(bus, "dev0", {"drvA", "drvB"});

    CHECK(g.lines_since(mark) ==
          Lines{"device: 'dev0': device_add", "bus: 'test': add device dev0",
                "test dev0: Device match requests probe deferral", "test dev0: Added to deferred list",
                "bus: 'test': __driver_probe_device: matched device dev0 with driver drvA",
                "bus: 'test': really_probe: probing driver drvA with device dev0",
                "driver: 'drvA': driver_bound: bound to device 'dev0'", "drvA dev0: Removed from deferred list",
                "bus: 'test': really_probe: bound device dev0 to driver drvA"});
    CHECK(bound_to(dev) == "drvA");
    CHECK_FALSE(dev.on_deferred_list());
}

TEST_CASE("after the fix, a driver skips a device whose match defers and goes on to the others",
          "[unit][driver-core][25e9fbf0fd38]")
{
    CoreFixture g(kAfterFix);
    Bus& bus = g.table_bus();
    g.table.not_ready.insert("dev0");
    Device& dev0 = g.add_device(bus, "dev0", {"drvA"});
    Device& dev1 = g.add_device(bus, "dev1", {"drvA"});
    const auto mark = g.mark();
    auto drv = g.core.driver_register({"drvA", &bus, {}, {}});

    REQUIRE(drv);
    CHECK(g.lines_since(mark) ==
          Lines{"bus: 'test': add driver drvA", "test dev0: Device match requests probe deferral",
                "test dev0: Added to deferred list",
                "bus: 'test': __driver_probe_device: matched device dev1 with driver drvA",
                "bus: 'test': really_probe: probing driver drvA with device dev1",
                "driver: 'drvA': driver_bound: bound to device 'dev1'",
                "bus: 'test': really_probe: bound device dev1 to driver drvA"});
    CHECK_FALSE(dev0.bound());
    CHECK(dev0.on_deferred_list());
    CHECK(bound_to(dev1) == "drvA");
}

TEST_CASE("before the fix, a driver probes a device even though its match deferred", "[unit][driver-core][25e9fbf0fd38]")
{
    CoreFixture g(kBeforeFix);
    Bus& bus = g.table_bus();
    g.table.not_ready.insert("dev0");
    Device& dev0 = g.add_device(bus, "dev0", {"drvA"});
    Device& dev1 = g.add_device(bus, "dev1", {"drvA"});
    g.add_driver(bus, "drvA");

    CHECK(bound_to(dev0) == "drvA");
    CHECK(bound_to(dev1) == "drvA");
    CHECK_FALSE(dev0.on_deferred_list());
}

TEST_CASE("4.19 took the fix by the manual backport in 4.19.258", "[unit][driver-core][25e9fbf0fd38]")
{
    for (const auto& [version, expect_bound] : {std::pair{"4.19.257", true}, std::pair{"4.19.258", false}}) {
        CoreFixture g(version);
        Bus& bus = g.table_bus();
        g.add_driver(bus, "drvA");
        g.table.not_ready.insert("dev0");
        Device& dev = g.add_device(bus, "dev0", {"drvA"});
        INFO(version);
        CHECK(dev.bound() == expect_bound);
    }
}

TEST_CASE("a bus match error stops the device's walk over drivers", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA");
    g.add_driver(bus, "drvB");
    g.table.error["dev0"] = -kEINVAL;
    const auto mark = g.mark();
    const uint64_t matches = g.core.stats().match_calls;
    Device& dev = g.add_device(bus, "dev0");

    CHECK(g.lines_since(mark).back() == "test dev0: Bus failed to match device: -22");
    CHECK(g.core.stats().match_calls == matches + 1);
    CHECK_FALSE(dev.on_deferred_list());
}

TEST_CASE("before 27c0d217340e a match error fails the driver's registration", "[unit][driver-core][27c0d217340e]")
{
    CoreFixture g("6.1.3");
    Bus& bus = g.table_bus();
    g.table.error["dev0"] = -kEINVAL;
    g.add_device(bus, "dev0");
    Device& dev1 = g.add_device(bus, "dev1", {"drvA"});
    auto drv = g.core.driver_register({"drvA", &bus, {}, {}});

    REQUIRE_FALSE(drv);
    CHECK(drv.error() == -kEINVAL);
    CHECK_FALSE(dev1.bound());
    CHECK(g.core.find_driver(bus, "drvA") == nullptr);
}

TEST_CASE("from 27c0d217340e a match error only skips that device", "[unit][driver-core][27c0d217340e]")
{
    for (const char* version : {"6.2", "6.1.4", "5.15.87"}) {
        CoreFixture g(version);
        Bus& bus = g.table_bus();
        g.table.error["dev0"] = -kEINVAL;
        g.add_device(bus, "dev0");
        Device& dev1 = g.add_device(bus, "dev1", {"drvA"});
        auto drv = g.core.driver_register({"drvA", &bus, {}, {}});
        INFO(version);
        REQUIRE(drv);
        CHECK(bound_to(dev1) == "drvA");
    }
}

TEST_CASE("a probe's -ENODEV or -ENXIO quietly lets the next driver try", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [](Device&) { return -kENODEV; });
    g.add_driver(bus, "drvB", [](Device&) { return -kENXIO; });
    g.add_driver(bus, "drvC");
    Device& dev = g.add_device(bus, "dev0", {"drvA", "drvB", "drvC"});

    CHECK(bound_to(dev) == "drvC");
    const auto lines = g.lines();
    CHECK(std::count(lines.begin(), lines.end(), "drvA: probe of dev0 rejects match -19") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "drvB: probe of dev0 rejects match -6") == 1);
    CHECK(g.log.dmesg(LogLevel::info).empty()); // nothing above debug level
}

TEST_CASE("any other probe error is logged as a failed probe and the next driver tries", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [](Device&) { return -kEIO; });
    g.add_driver(bus, "drvB");
    Device& dev = g.add_device(bus, "dev0", {"drvA", "drvB"});

    CHECK(bound_to(dev) == "drvB");
    CHECK(g.log.dmesg(LogLevel::info) == "[    0.000000] drvA: probe of dev0 failed with error -5\n");
    CHECK(g.log.records()[g.log.records().size() - 1].level == LogLevel::debug);
}

TEST_CASE("from 6.9 probe failures are dev_err with the device prefix", "[unit][driver-core][32de4b4f9dfa]")
{
    CoreFixture g("6.12");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [](Device&) { return -kEIO; });
    g.add_driver(bus, "drvB", [](Device&) { return -kENODEV; });
    g.add_device(bus, "dev0", {"drvA", "drvB"});

    CHECK(g.log.dmesg(LogLevel::info) == "[    0.000000] drvA dev0: probe with driver drvA failed with error -5\n");
    const auto lines = g.lines();
    CHECK(std::count(lines.begin(), lines.end(), "drvB dev0: probe with driver drvB rejects match -19") == 1);
    CHECK(std::count(lines.begin(), lines.end(), "test dev0: bus: 'test': __driver_probe_device: matched device with driver drvA") == 1);
}

TEST_CASE("a driver's own deferral names the driver in the prefix from 5.14, the bus before", "[unit][driver-core][ef6dcbdd8eb2]")
{
    for (const auto& [version, line] :
         {std::pair{"5.10", "test dev0: Driver drvA requests probe deferral"},
          std::pair{"5.15", "drvA dev0: Driver drvA requests probe deferral"}}) {
        CoreFixture g(version);
        Bus& bus = g.table_bus();
        g.add_driver(bus, "drvA", [](Device&) { return -kEPROBE_DEFER; });
        Device& dev = g.add_device(bus, "dev0", {"drvA"});
        const auto lines = g.lines();
        INFO(version);
        CHECK(std::count(lines.begin(), lines.end(), line) == 1);
        CHECK(dev.on_deferred_list());
    }
}

TEST_CASE("an IOMMU deferral in dma_configure stops the driver walk from 5.14 and not before", "[unit][driver-core][ef6dcbdd8eb2]")
{
    for (const auto& [version, attempts] : {std::pair{"5.10", 2u}, std::pair{"5.15", 1u}}) {
        CoreFixture g(version);
        BusType type;
        type.name = "pci";
        type.dma_configure = [](Device&) { return -kEPROBE_DEFER; };
        Bus& bus = *g.core.bus_register(std::move(type)).value();
        g.add_driver(bus, "drvA");
        g.add_driver(bus, "drvB");
        const auto mark = g.mark();
        Device& dev = g.add_device(bus, "0000:00:03.0");
        const auto lines = g.lines_since(mark);
        INFO(version);
        CHECK(g.core.stats().probe_attempts == attempts);
        CHECK(g.core.stats().probe_calls == 0);
        CHECK(dev.on_deferred_list());
        const bool logged = std::count(lines.begin(), lines.end(), "pci 0000:00:03.0: Driver drvB requests probe deferral");
        CHECK(logged == (attempts == 2));
    }
}

TEST_CASE("a bus probe runs instead of the driver's, with the driver already set", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    BusType type;
    type.name = "pci";
    std::vector<std::string> calls;
    type.probe = [&](Device& dev) {
        calls.push_back("bus:" + dev.driver()->name());
        return dev.driver()->call_probe(dev);
    };
    Bus& bus = *g.core.bus_register(std::move(type)).value();
    g.add_driver(bus, "vfio-pci", [&](Device&) {
        calls.push_back("driver");
        return 0;
    });
    Device& dev = g.add_device(bus, "0000:00:04.0");
    CHECK(calls == std::vector<std::string>{"bus:vfio-pci", "driver"});
    CHECK(dev.bound());
}
