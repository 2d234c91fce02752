// The deferred-probe timeout on the virtual clock and driver_deferred_probe_check_state(): when a
// device waiting on an optional supplier (an IOMMU on the OF path) gives up and probes without it.
#include <catch2/catch.hpp>

#include "tests/support/driver_core_fixture.h"

using namespace viommu::test;

namespace {

// An endpoint "ep" with its driver on a bus whose dma_configure waits for an IOMMU like
// of_iommu_configure(): while the IOMMU is missing it asks driver_deferred_probe_check_state(), and any
// answer but -EPROBE_DEFER means "probe without the IOMMU".
struct OptionalIommuGuest {
    explicit OptionalIommuGuest(const std::string& version, DriverCoreOptions options = {}) : g(version, options)
    {
        BusType type;
        type.name = "platform";
        type.dma_configure = [this](Device& dev) {
            const int ret = g.core.deferred_probe_check_state(dev);
            check_results.push_back(ret);
            return ret == -kEPROBE_DEFER ? ret : 0;
        };
        Bus& bus = *g.core.bus_register(std::move(type)).value();
        g.add_driver(bus, "ep-drv");
        ep = &g.add_device(bus, "ep", {});
    }

    CoreFixture g;
    Device* ep = nullptr;
    std::vector<int> check_results;
};

std::string warnings(const CoreFixture& g)
{
    return g.log.dmesg(LogLevel::warning);
}

} // namespace

TEST_CASE("6.x with modules waits 10 s after late_initcall, then probes without the optional supplier",
          "[unit][driver-core][timeout][f516d01b9df2]")
{
    OptionalIommuGuest o("6.1");
    CoreFixture& g = o.g;
    Device& ep = *o.ep;
    g.clock.advance(2 * kNsecPerSec);
    g.core.late_initcall();
    CHECK(g.core.deferred_probe_timeout() == 10);
    CHECK(g.core.timeout_deadline() == 12 * kNsecPerSec);
    CHECK_FALSE(ep.bound());

    g.core.advance_time(9 * kNsecPerSec);
    CHECK_FALSE(ep.bound());
    CHECK(warnings(g).empty());

    g.core.advance_time(1 * kNsecPerSec);
    CHECK(ep.bound());
    CHECK(o.check_results.back() == -kETIMEDOUT);
    CHECK(warnings(g) == "[   12.000000] ep-drv ep: deferred probe timeout, ignoring dependency\n");
}

TEST_CASE("5.10 to 5.19 default to no timeout: optional suppliers give up at late_initcall's second pass",
          "[unit][driver-core][timeout][c8c43cee29f6]")
{
    OptionalIommuGuest o("5.19");
    o.g.core.late_initcall();
    CHECK(o.ep->bound());
    CHECK(o.check_results == std::vector<int>{-kEPROBE_DEFER, -kEPROBE_DEFER, -kETIMEDOUT});
    CHECK_FALSE(o.g.core.timeout_deadline());
}

TEST_CASE("4.19 gives up with -ENODEV as soon as the initcalls are done", "[unit][driver-core][timeout]")
{
    OptionalIommuGuest o("4.19.300");
    o.g.core.late_initcall();
    CHECK(o.ep->bound());
    CHECK(o.check_results.back() == -kENODEV);
    CHECK(warnings(o.g) == "[    0.000000] ep-drv ep: ignoring dependency for device, assuming no driver\n");
}

TEST_CASE("4.19 with deferred_probe_timeout=0 gives up with a WARN and -ETIMEDOUT", "[unit][driver-core][timeout]")
{
    OptionalIommuGuest o("4.19.300", DriverCoreOptions{0});
    o.g.core.late_initcall();
    CHECK(o.check_results.back() == -kETIMEDOUT);
    CHECK(warnings(o.g) == "[    0.000000] ------------[ cut here ]------------\n"
                         "[    0.000000] ep-drv ep: deferred probe timeout, ignoring dependency\n");
}

TEST_CASE("without CONFIG_MODULES nothing more can come: -ENODEV after the initcalls", "[unit][driver-core][timeout]")
{
    auto profile = Profile::from_json(R"({"name": "static", "version": "6.1", "config": {"CONFIG_MODULES": "n"}})",
                                      "static.json");
    REQUIRE(profile);
    VirtualClock clock;
    KernelLog log(clock);
    DriverCore core(*profile, log, clock);
    CHECK(core.deferred_probe_timeout() == 0);
    BusType type;
    type.name = "platform";
    std::vector<int> results;
    type.dma_configure = [&](Device& dev) {
        const int ret = core.deferred_probe_check_state(dev);
        results.push_back(ret);
        return ret == -kEPROBE_DEFER ? ret : 0;
    };
    Bus& bus = *core.bus_register(std::move(type)).value();
    REQUIRE(core.driver_register({"ep-drv", &bus, {}, {}}));
    REQUIRE(core.device_register({"ep", &bus, nullptr}));
    core.late_initcall();
    CHECK(results.back() == -kENODEV);
    CHECK(log.dmesg(LogLevel::warning) == "[    0.000000] ep-drv ep: ignoring dependency for device, assuming no driver\n");
}

TEST_CASE("devices still deferred when the timeout expires are reported", "[unit][driver-core][timeout]")
{
    // A deferral with no timeout behind it (the ACPI/VIOT path returns -EPROBE_DEFER outright).
    const auto run = [](const char* version) {
        CoreFixture g(version);
        BusType type;
        type.name = "pci";
        type.dma_configure = [](Device&) { return -kEPROBE_DEFER; };
        Bus& bus = *g.core.bus_register(std::move(type)).value();
        g.add_driver(bus, "virtio-pci");
        g.add_device(bus, "0000:00:03.0", {});
        g.core.late_initcall();
        g.core.advance_time(10 * kNsecPerSec);
        const LogRecord& last = g.log.records().back();
        return std::pair{g.log.dmesg(LogLevel::info), last.level};
    };
    CHECK(run("6.1") == std::pair{std::string("[   10.000000] pci 0000:00:03.0: deferred probe pending\n"),
                                  LogLevel::info});
    // 7c41da586e9f (6.8): the reason, at info level; 6aeb8850e0f3 (6.9): at warning level.
    CHECK(run("6.8") == std::pair{std::string("[   10.000000] pci 0000:00:03.0: deferred probe pending: (reason "
                                              "unknown)\n"),
                                  LogLevel::info});
    CHECK(run("6.12") == std::pair{std::string("[   10.000000] pci 0000:00:03.0: deferred probe pending: (reason "
                                               "unknown)\n"),
                                   LogLevel::warning});
}

TEST_CASE("the pending report carries the reason dev_err_probe recorded", "[unit][driver-core][timeout]")
{
    CoreFixture g("6.12");
    Bus& bus = g.table_bus("platform");
    g.add_driver(bus, "panel", [&](Device& dev) { return g.core.dev_err_probe(dev, -kEPROBE_DEFER, "no backlight"); });
    g.add_device(bus, "panel0", {"panel"});
    g.core.late_initcall();
    g.core.advance_time(10 * kNsecPerSec);
    CHECK(g.log.dmesg(LogLevel::warning) == "[   10.000000] platform panel0: deferred probe pending: panel: no backlight\n");
    CHECK(g.log.records().back().level == LogLevel::warning);
}

TEST_CASE("from 5.19 a driver registered while the timeout is armed restarts it", "[unit][driver-core][timeout][2b28a1a84a0e]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.core.late_initcall();
    g.core.advance_time(5 * kNsecPerSec);
    const auto mark = g.mark();
    g.add_driver(bus, "late-module");
    CHECK(g.lines_since(mark).back() == "Extended deferred probe timeout by 10 secs");
    CHECK(g.core.timeout_deadline() == 15 * kNsecPerSec);

    CoreFixture old("5.15", DriverCoreOptions{10});
    Bus& old_bus = old.table_bus();
    old.core.late_initcall();
    old.core.advance_time(5 * kNsecPerSec);
    old.add_driver(old_bus, "late-module");
    CHECK(old.core.timeout_deadline() == 10 * kNsecPerSec);
}

TEST_CASE("deferred_probe_timeout= replaces the default and the timeout fires once", "[unit][driver-core][timeout]")
{
    CoreFixture g("5.15", DriverCoreOptions{30});
    Bus& bus = g.table_bus();
    g.add_driver(bus, "drvA", [](Device&) { return -kEPROBE_DEFER; });
    g.add_device(bus, "dev0", {"drvA"});
    g.core.late_initcall();
    CHECK(g.core.timeout_deadline() == 30 * kNsecPerSec);
    g.core.advance_time(60 * kNsecPerSec);
    CHECK(g.core.deferred_probe_timeout() == 0);
    CHECK_FALSE(g.core.timeout_deadline());
    CHECK(g.log.dmesg(LogLevel::info) == "[   30.000000] test dev0: deferred probe pending\n");
    CHECK(g.clock.now() == 60 * kNsecPerSec);
}
