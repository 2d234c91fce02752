// Driver-core boot: 10,000 PCI devices and 100 drivers, where every device first defers because its
// supplier (the IOMMU every device sits behind) appears last, after all of them. One iteration is one
// whole boot through the kernel's algorithm: each device_add() walks the drivers in registration order
// until its match, probes and defers in dma_configure(); the IOMMU's driver binds last; late_initcall's
// first pass retries the 10,000 devices in the order they deferred and binds them all.
//
// With supplier=module the IOMMU driver is a module loaded after late_initcall instead (virtio_iommu=m,
// as in Debian's 6.12): both late_initcall passes retry and re-defer all 10,000 devices, and the
// module's bind triggers the pass that binds them.
//
// There is no baseline twin: nothing simpler does the same work, so the case reports its time and the
// algorithm's own counts (probe attempts, match calls, binds) as counters. dyndbg=1 records every
// dev_dbg/pr_debug of the boot, to show what the log costs.
#include <benchmark/benchmark.h>

#include "base/pci_address.h"
#include "guest-model/driver-core/driver_core.h"
#include "guest-model/kernel/errno.h"

namespace {

using namespace viommu::guest;
using namespace viommu::guest::profiles;
using namespace viommu::guest::driver_core;
using namespace viommu::guest::kernel;

constexpr int kDevices = 10'000;
constexpr int kDrivers = 100;

struct DeviceId {
    int driver; // the index of the one driver that matches
};

void boot(benchmark::State& state)
{
    auto profile = Profile::named("debian-12");
    if (!profile) {
        state.SkipWithError(profile.error().c_str());
        return;
    }
    std::vector<DeviceId> ids(kDevices);
    std::vector<std::string> names(kDevices);
    for (int i = 0; i < kDevices; ++i) {
        ids[static_cast<size_t>(i)].driver = i % kDrivers;
        // Device i at bus i / 256, devfn i % 256: every slot and function of a bus before the next.
        names[static_cast<size_t>(i)] =
            viommu::PciAddress(0, static_cast<uint8_t>(i / 256), static_cast<uint8_t>(i % 256)).to_string();
    }
    std::vector<std::string> driver_names(kDrivers);
    for (int d = 0; d < kDrivers; ++d)
        driver_names[static_cast<size_t>(d)] = fmt::format("pci-drv{}", d);

    DriverCoreStats stats;
    for (auto _ : state) {
        VirtualClock clock;
        KernelLog log(clock);
        log.set_dynamic_debug(state.range(0) != 0);
        DriverCore core(*profile, log, clock);
        bool iommu_registered = false;

        BusType pci;
        pci.name = "pci";
        // The drivers' names are pci-drv<N>; the device's platform data says which N it wants.
        pci.match = [&](Device& dev, const Driver& drv) {
            const auto* id = static_cast<const DeviceId*>(dev.platform_data());
            return id && drv.name() == driver_names[static_cast<size_t>(id->driver)] ? 1 : 0;
        };
        pci.dma_configure = [&](Device&) { return iommu_registered ? 0 : -kEPROBE_DEFER; };
        Bus* pci_bus = *core.bus_register(std::move(pci));
        BusType virtio;
        virtio.name = "virtio";
        Bus* virtio_bus = *core.bus_register(std::move(virtio));

        for (int d = 0; d < kDrivers; ++d)
            (void)core.driver_register({driver_names[static_cast<size_t>(d)], pci_bus, {}, {}});
        for (int i = 0; i < kDevices; ++i)
            (void)core.device_register({names[static_cast<size_t>(i)], pci_bus, nullptr, &ids[static_cast<size_t>(i)]});
        const auto load_iommu_driver = [&] {
            (void)core.device_register({"virtio0", virtio_bus, nullptr, nullptr});
            (void)core.driver_register({"virtio_iommu", virtio_bus, [&](Device&) {
                                            iommu_registered = true;
                                            return 0;
                                        },
                                        {}});
        };
        const bool module = state.range(1) != 0;
        if (!module)
            load_iommu_driver();
        core.late_initcall();
        if (module) {
            load_iommu_driver();
            core.run_pending_work();
        }

        if (core.stats().binds != kDevices + 1) {
            state.SkipWithError("not every device bound");
            return;
        }
        stats = core.stats();
        benchmark::DoNotOptimize(log.records().size());
    }
    state.counters["devices"] = kDevices;
    state.counters["drivers"] = kDrivers;
    state.counters["probe_attempts"] = static_cast<double>(stats.probe_attempts);
    state.counters["match_calls"] = static_cast<double>(stats.match_calls);
    state.counters["binds"] = static_cast<double>(stats.binds);
    state.counters["deferrals"] = static_cast<double>(stats.deferrals);
}

BENCHMARK(boot)
    ->Name("driver_core/boot_10k_devices_100_drivers")
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"dyndbg", "supplier_module"})
    ->Unit(benchmark::kMillisecond);

} // namespace
