// Registering buses, devices and drivers (core.c, bus.c, driver.c): errors, order, unregistering.
#include <catch2/catch.hpp>

#include "tests/support/driver_core_fixture.h"

using namespace viommu::test;

TEST_CASE("a second driver of the same name on a bus is refused with the kernel's message", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA");
    auto again = g.core.driver_register({"drvA", &bus, {}, {}});
    REQUIRE_FALSE(again);
    CHECK(again.error() == -kEBUSY);
    CHECK(g.log.dmesg(LogLevel::err) == "[    0.000000] Error: Driver 'drvA' is already registered, aborting...\n");
}

TEST_CASE("bad registrations are refused", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    CHECK(g.core.bus_register(BusType{"test", {}, {}, {}, {}}).error() == -kEEXIST);
    CHECK(g.core.driver_register({"orphan", nullptr, {}, {}}).error() == -kEINVAL);
    CHECK(g.core.device_register({"nobus", nullptr, nullptr}).error() == -kEINVAL);
    Device& dev = g.add_device(bus, "dev0");
    CHECK(g.core.device_add(dev).error() == -kEINVAL); // twice
    CHECK(g.core.device_register({"dev0", &bus, nullptr}).error() == -kEEXIST);
}

TEST_CASE("devices and drivers are tried in registration order", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    std::vector<std::string> order;
    for (const char* name : {"d2", "d0", "d1"})
        g.add_device(bus, name, {"drvA"});
    g.add_driver(bus, "drvA", [&](Device& dev) {
        order.push_back(dev.name());
        return 0;
    });
    CHECK(order == std::vector<std::string>{"d2", "d0", "d1"});
}

TEST_CASE("unregistering a driver unbinds its devices, the last bound first", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    std::vector<std::string> removed;
    auto drv = g.core.driver_register({"drvA", &bus, {}, [&](Device& d) { removed.push_back(d.name()); }});
    REQUIRE(drv);
    Device& a = g.add_device(bus, "a", {"drvA"});
    g.add_device(bus, "b", {"drvA"});
    g.core.driver_unregister(**drv);
    CHECK(removed == std::vector<std::string>{"b", "a"});
    CHECK_FALSE(a.bound());
    CHECK_FALSE((*drv)->registered());
    // A new device finds no driver.
    CHECK_FALSE(g.add_device(bus, "c", {"drvA"}).bound());
}

TEST_CASE("with drivers_autoprobe off nothing binds until device_attach()", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    bus.set_drivers_autoprobe(false);
    g.add_driver(bus, "drvA");
    Device& dev = g.add_device(bus, "dev0", {"drvA"});
    CHECK_FALSE(dev.bound());
    CHECK(g.core.device_attach(dev) == 1);
    CHECK(dev.bound());
    CHECK(g.core.device_attach(dev) == 1); // already bound
}

TEST_CASE("a device's messages name its driver once bound, its bus otherwise", "[unit][driver-core]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus("virtio");
    g.add_driver(bus, "virtio_iommu");
    Device& dev = g.add_device(bus, "virtio0", {"virtio_iommu"});
    CHECK(dev.driver_string() == "virtio_iommu");
    g.core.device_release_driver(dev);
    CHECK(dev.driver_string() == "virtio");
}

TEST_CASE("every behaviour the driver core reads is in the facts table", "[unit][driver-core][profiles]")
{
    const DriverCoreSemantics s = DriverCoreSemantics::from(load_profile("6.12"));
    CHECK(s.decisions.all().size() == 13);
    for (const auto& [key, decision] : s.decisions.all()) {
        INFO(key.str());
        CHECK(FactsTable::builtin().find(key.str()) != nullptr);
        CHECK_FALSE(decision.commit.empty());
    }
}

TEST_CASE("the deferred probe timeout defaults follow the kernel version and CONFIG_MODULES", "[unit][driver-core][profiles]")
{
    CHECK(DriverCoreSemantics::from(load_profile("4.19.300")).default_deferred_probe_timeout == -1);
    CHECK(DriverCoreSemantics::from(load_profile("5.10")).default_deferred_probe_timeout == 0);
    CHECK(DriverCoreSemantics::from(load_profile("5.19")).default_deferred_probe_timeout == 0);
    CHECK(DriverCoreSemantics::from(load_profile("6.0")).default_deferred_probe_timeout == 10);
    CHECK(DriverCoreSemantics::from(load_profile("debian-12")).default_deferred_probe_timeout == 10);
}
