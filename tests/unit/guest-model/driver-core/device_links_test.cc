// Device links (drivers/base/core.c): a consumer waits for its supplier to bind; unbinding a supplier
// unbinds its consumers first.
#include <catch2/catch.hpp>

#include "tests/support/driver_core_fixture.h"

using namespace viommu::test;

namespace {

// A supplier "iommu" registered first; a consumer "ep" linked to it before it is added.
struct Linked {
    explicit Linked(const char* version) : g(version), bus(g.table_bus())
    {
        g.table.compatible["iommu"] = {"iommu-drv"};
        g.table.compatible["ep"] = {"ep-drv"};
        supplier = *g.core.device_register({"iommu", &bus, nullptr});
        consumer = &g.core.device_initialize({"ep", &bus, nullptr});
        link = *g.core.device_link_add(*consumer, *supplier);
    }
    CoreFixture g;
    Bus& bus;
    Device* supplier = nullptr;
    Device* consumer = nullptr;
    DeviceLink* link = nullptr;
};

} // namespace

TEST_CASE("a consumer does not probe before its supplier is bound", "[unit][driver-core][links]")
{
    Linked l("6.1");
    std::vector<std::string> probes;
    l.g.add_driver(l.bus, "ep-drv", [&](Device& dev) {
        probes.push_back(dev.name());
        return 0;
    });
    const auto mark = l.g.mark();
    REQUIRE(l.g.core.device_add(*l.consumer));
    CHECK(probes.empty());
    CHECK(l.link->status == LinkState::dormant);
    const auto lines = l.g.lines_since(mark);
    // 68223eeec708 (v5.15): the link check reports through dev_err_probe(), so the reason is recorded.
    CHECK(std::count(lines.begin(), lines.end(), "test ep: error -EPROBE_DEFER: supplier iommu not ready") == 1);
    CHECK(l.g.core.devices_deferred() == "ep\ttest: supplier iommu not ready\n");

    l.g.core.late_initcall();
    CHECK(probes.empty());
    l.g.add_driver(l.bus, "iommu-drv"); // the supplier's driver is a module loaded later
    CHECK(l.link->status == LinkState::available);
    l.g.core.run_pending_work();
    CHECK(probes == std::vector<std::string>{"ep"});
    CHECK(l.link->status == LinkState::active);
    CHECK(l.consumer->link_status() == DevLinkStatus::driver_bound);
}

TEST_CASE("a link to a supplier that is already bound lets the consumer probe at once", "[unit][driver-core][links]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "iommu-drv");
    g.add_driver(bus, "ep-drv");
    Device& supplier = g.add_device(bus, "iommu", {"iommu-drv"});
    g.table.compatible["ep"] = {"ep-drv"};
    Device& consumer = g.core.device_initialize({"ep", &bus, nullptr});
    DeviceLink* link = *g.core.device_link_add(consumer, supplier);
    CHECK(link->status == LinkState::available);
    REQUIRE(g.core.device_add(consumer));
    CHECK(consumer.bound());
    CHECK(link->status == LinkState::active);
}

TEST_CASE("the link check is silent in 5.10 and a debug line from 5.12", "[unit][driver-core][links][1f0dfa0545e7]")
{
    for (const auto& [version, expected] :
         {std::pair{"5.10", std::vector<std::string>{}},
          std::pair{"5.12", std::vector<std::string>{"test ep: probe deferral - supplier iommu not ready"}}}) {
        Linked l(version);
        l.g.add_driver(l.bus, "ep-drv");
        const auto mark = l.g.mark();
        REQUIRE(l.g.core.device_add(*l.consumer));
        std::vector<std::string> about_supplier;
        for (const std::string& line : l.g.lines_since(mark))
            if (line.find("supplier") != std::string::npos)
                about_supplier.push_back(line);
        INFO(version);
        CHECK(about_supplier == expected);
        CHECK(l.consumer->on_deferred_list());
        CHECK(l.g.core.devices_deferred() == "ep\t\n"); // no reason recorded before 68223eeec708
    }
}

TEST_CASE("unbinding a supplier unbinds its consumers first", "[unit][driver-core][links]")
{
    Linked l("6.1");
    std::vector<std::string> removed;
    auto iommu = l.g.core.driver_register({"iommu-drv", &l.bus, {}, [&](Device& d) { removed.push_back(d.name()); }});
    REQUIRE(iommu);
    REQUIRE(l.g.core.driver_register({"ep-drv", &l.bus, {}, [&](Device& d) { removed.push_back(d.name()); }}));
    REQUIRE(l.g.core.device_add(*l.consumer));
    REQUIRE(l.consumer->bound());

    l.g.core.driver_unregister(**iommu);
    CHECK(removed == std::vector<std::string>{"ep", "iommu"});
    CHECK_FALSE(l.consumer->bound());
    CHECK(l.link->status == LinkState::dormant);
    // With the supplier gone the consumer cannot come back.
    CHECK(l.g.core.device_attach(*l.consumer) == -kEPROBE_DEFER);
}

TEST_CASE("a stateless link does not hold the consumer back", "[unit][driver-core][links]")
{
    CoreFixture g("6.1");
    Bus& bus = g.table_bus();
    g.add_driver(bus, "ep-drv");
    Device& supplier = g.add_device(bus, "iommu");
    g.table.compatible["ep"] = {"ep-drv"};
    Device& consumer = g.core.device_initialize({"ep", &bus, nullptr});
    DeviceLink* link = *g.core.device_link_add(consumer, supplier, kDlFlagStateless);
    CHECK_FALSE(link->managed());
    REQUIRE(g.core.device_add(consumer));
    CHECK(consumer.bound());
}

TEST_CASE("device_link_add refuses cycles, self links, unregistered suppliers and unknown flags", "[unit][driver-core][links]")
{
    Linked l("6.1");
    Device& unregistered = l.g.core.device_initialize({"later", &l.bus, nullptr});
    CHECK(l.g.core.device_link_add(*l.supplier, *l.supplier).error() == -kEINVAL);
    CHECK(l.g.core.device_link_add(*l.consumer, unregistered).error() == -kEINVAL);
    CHECK(l.g.core.device_link_add(*l.consumer, *l.supplier, 1u << 5).error() == -kEINVAL);
    REQUIRE(l.g.core.device_add(*l.consumer));
    CHECK(l.g.core.device_link_add(*l.supplier, *l.consumer).error() == -kEINVAL); // would be a cycle
    CHECK(*l.g.core.device_link_add(*l.consumer, *l.supplier) == l.link);         // the same link again
}
