// Whole scenarios through the driver core, checked against the complete log a kernel of each version
// would print (dynamic debug on), byte for byte.
#include <catch2/catch.hpp>

#include "tests/support/driver_core_fixture.h"

using namespace viommu::test;

namespace {

constexpr uint64_t kMsec = 1'000'000;

// The bug 25e9fbf0fd38 fixes (its commit message, and the pl011 crash on v6.0-rc1 that prompted it):
// X's match() defers while X is not ready; drvA does not support X but its probe accepts anything;
// drvB is X's driver. X appears before it is ready and is ready by late_initcall.
struct Outcome {
    std::string bound; // the driver X ends bound to
    std::string dmesg;
};

Outcome match_deferral_scenario(const char* version)
{
    CoreFixture g(version);
    Bus& bus = g.table_bus("amba");
    g.add_driver(bus, "drvA");
    g.add_driver(bus, "drvB");
    g.clock.advance(1 * kMsec);
    g.table.not_ready.insert("X");
    Device& x = g.add_device(bus, "X", {"drvB"});
    g.clock.advance(1 * kMsec);
    g.table.not_ready.erase("X");
    g.core.late_initcall();
    return {bound_to(x), g.log.dmesg()};
}

// What both kernels print up to X's deferral.
const std::string kUntilDeferral = "[    0.000000] bus: 'amba': add driver drvA\n"
                                   "[    0.000000] bus: 'amba': add driver drvB\n"
                                   "[    0.001000] device: 'X': device_add\n"
                                   "[    0.001000] bus: 'amba': add device X\n"
                                   "[    0.001000] amba X: Device match requests probe deferral\n"
                                   "[    0.001000] amba X: Added to deferred list\n";

} // namespace

TEST_CASE("before the fix a device is bound to a driver although its match asked for deferral",
          "[integration][driver-core][25e9fbf0fd38]")
{
    const Outcome o = match_deferral_scenario("5.15.65");
    CHECK(o.bound == "drvA");
    CHECK(o.dmesg == kUntilDeferral +
                          "[    0.001000] bus: 'amba': __driver_probe_device: matched device X with driver drvA\n"
                          "[    0.001000] bus: 'amba': really_probe: probing driver drvA with device X\n"
                          "[    0.001000] driver: 'drvA': driver_bound: bound to device 'X'\n"
                          "[    0.001000] drvA X: Removed from deferred list\n"
                          "[    0.001000] bus: 'amba': really_probe: bound device X to driver drvA\n");
}

TEST_CASE("after the fix the device waits and binds to its own driver", "[integration][driver-core][25e9fbf0fd38]")
{
    const Outcome o = match_deferral_scenario("5.15.66");
    CHECK(o.bound == "drvB");
    CHECK(o.dmesg == kUntilDeferral +
                          "[    0.002000] amba X: Retrying from deferred list\n"
                          "[    0.002000] bus: 'amba': __driver_probe_device: matched device X with driver drvB\n"
                          "[    0.002000] bus: 'amba': really_probe: probing driver drvB with device X\n"
                          "[    0.002000] driver: 'drvB': driver_bound: bound to device 'X'\n"
                          "[    0.002000] bus: 'amba': really_probe: bound device X to driver drvB\n");
}

TEST_CASE("the two behaviours end in different bindings on every tree the fix reached", "[integration][driver-core][25e9fbf0fd38]")
{
    const std::pair<const char*, const char*> cases[] = {
        {"4.19.257", "drvA"}, {"4.19.258", "drvB"}, {"5.10.141", "drvA"}, {"5.10.142", "drvB"},
        {"5.19.7", "drvA"},   {"5.19.8", "drvB"},   {"5.18.19", "drvA"},  {"6.0", "drvB"},
        {"debian-12", "drvB"}, {"6.12", "drvB"},
    };
    for (const auto& [version, expected] : cases) {
        INFO(version);
        CHECK(match_deferral_scenario(version).bound == expected);
    }
}

TEST_CASE("the same input gives the same log, byte for byte", "[integration][driver-core]")
{
    CHECK(match_deferral_scenario("6.1").dmesg == match_deferral_scenario("6.1").dmesg);
}

namespace {

// An endpoint behind a virtio-iommu on the ACPI/VIOT path: pci_dma_configure() returns -EPROBE_DEFER
// until the virtio-iommu driver has probed and registered the IOMMU (iommu_device_register()).
struct ViommuGuest {
    explicit ViommuGuest(const char* version) : g(version)
    {
        BusType pci;
        pci.name = "pci";
        pci.dma_configure = [this](Device&) { return iommu_registered ? 0 : -kEPROBE_DEFER; };
        pci_bus = *g.core.bus_register(std::move(pci));
        virtio_bus = &g.table_bus("virtio");
    }

    void boot()
    {
        // device initcalls: the PCI driver is built in, the endpoint is on the bus, both at t=0.2 s.
        g.clock.advance(200 * kMsec);
        REQUIRE(g.core.driver_register({"virtio-pci", pci_bus, {}, {}}));
        endpoint = *g.core.device_register({"0000:00:03.0", pci_bus, nullptr});
        g.clock.advance(100 * kMsec);
        g.core.late_initcall();
    }

    // modprobe virtio_iommu: its device binds and registers the IOMMU.
    void load_viommu_module()
    {
        g.table.compatible["virtio0"] = {"virtio_iommu"};
        REQUIRE(g.core.device_register({"virtio0", virtio_bus, nullptr}));
        REQUIRE(g.core.driver_register({"virtio_iommu", virtio_bus, [this](Device&) {
                                            iommu_registered = true;
                                            return 0;
                                        },
                                        {}}));
        g.core.run_pending_work();
    }

    CoreFixture g;
    Bus* pci_bus = nullptr;
    Bus* virtio_bus = nullptr;
    Device* endpoint = nullptr;
    bool iommu_registered = false;
};

} // namespace

TEST_CASE("an endpoint behind a virtio-iommu defers until the IOMMU driver has probed", "[integration][driver-core]")
{
    ViommuGuest v("debian-12-6.12");
    v.boot();
    CHECK_FALSE(v.endpoint->bound());
    CHECK(v.g.core.devices_deferred() == "0000:00:03.0\t\n");
    v.g.core.advance_time(2 * kNsecPerSec);
    v.load_viommu_module();
    CHECK(v.endpoint->bound());
    CHECK(v.g.core.devices_deferred().empty());
    CHECK(v.g.log.dmesg(LogLevel::info).empty());
}

TEST_CASE("an endpoint whose IOMMU never comes is reported when the timeout expires", "[integration][driver-core]")
{
    ViommuGuest v("debian-12-6.12");
    v.boot();
    v.g.core.advance_time(15 * kNsecPerSec);
    CHECK(v.g.log.dmesg(LogLevel::info) ==
          "[   10.300000] pci 0000:00:03.0: deferred probe pending: (reason unknown)\n");
    // The ACPI path has no timeout of its own: the module still rescues the endpoint.
    v.load_viommu_module();
    CHECK(v.endpoint->bound());
}
