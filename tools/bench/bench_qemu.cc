// Requests per second through QEMU 7.2's own virtio-iommu-pci and through ours, in the same run, with
// the same guest-side code: the bare request client (guest-model/virtio-iommu/request_client.h) on the
// guest model's virtio-pci driver. QEMU is Debian's qemu-system-x86_64 driven over qtest
// (system/replay/qemu_target.h, docs/qemu-peer.md); ours sits behind our virtio-pci transport as QEMU
// presents it (INTx, no MSI-X: hw/virtio-iommu/pci.h), and behind virtio-mmio as a second reference.
//
// The workload is what Linux up to 6.7 sends for each page it maps and unmaps in a strict DMA domain:
// viommu_map_pages() sends its MAP with viommu_send_req_sync() and waits for it, and the UNMAP queued by
// viommu_unmap_pages() is sent and waited for by viommu_iotlb_sync() (drivers/iommu/virtio-iommu.c; 6.8
// batches MAPs instead, 00271ca5cbcd). So one endpoint is attached, then MAP 4 KiB + UNMAP pairs go one
// request per notification, each awaited before the next.
//
// Times are wall-clock (UseRealTime): QEMU's share of the work runs in another process, which the CPU
// time of this one would leave out. The QEMU cases also say where its time goes, per request: qtest
// round trips, the time spent awaiting their replies (QtestClient::traffic()), QEMU's CPU time and ours.
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include <linux/virtio_iommu.h>

#include "guest-model/virtio-drivers/pci_modern_driver.h"
#include "guest-model/virtio-iommu/request_client.h"
#include "hw/virtio-iommu/device.h"
#include "hw/virtio-iommu/pci.h"
#include "system/machine/machine.h"
#include "system/qemu/qemu_process.h"
#include "system/replay/qemu_target.h"
#include "system/replay/target.h"

namespace {

using namespace viommu;
namespace vi = hw::virtio_iommu;
using guest::virtio_iommu::IommuRequestClient;

constexpr uint32_t kDomain = 1;
// 00:01.0. QEMU's virtio-iommu knows an endpoint only once a PCI device there asks for its address space,
// so QemuTarget puts a pci-testdev at every endpoint it is told of (and its virtio-iommu-pci at 00:02.0).
constexpr uint32_t kEndpoint = 0x08;
constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kPhysStart = 0x10'0000; // MAP only records it: neither device touches the page

// QEMU 7.2's virtio-iommu-pci on q35 as our device's configuration: our defaults are its properties,
// and q35 reserves the MSI window for every endpoint (pc_machine_device_pre_plug_cb(), hw/i386/pc.c).
vi::IommuConfig q35_config()
{
    vi::IommuConfig config;
    config.reserved.push_back(vi::x86_msi_region());
    return config;
}

// Our virtio-iommu behind virtio-pci on a machine of ours, with the driver QemuTarget uses for QEMU's
// function (the features Linux 6.12's virtio_pci takes, RING_RESET included).
struct OursOnPci {
    system::machine::Machine machine;
    vi::VirtioIommu& device = machine.add_pci_device<vi::VirtioIommu>(vi::pci_identity(), q35_config());
    guest::virtio_drivers::VirtioPciModernDriver driver{machine.pci_handle(0),
                                                        guest::virtio_drivers::VirtioPciBehaviour{.ring_reset = true, .ring = {}}};
    IommuRequestClient client{driver};
};

// Brings the client up and attaches the endpoint to the domain; why not, if it fails.
std::optional<std::string> prepare(IommuRequestClient& client)
{
    if (auto up = client.bring_up(); !up)
        return "bring-up: " + up.error();
    if (client.attach(kDomain, kEndpoint) != VIRTIO_IOMMU_S_OK)
        return std::string("ATTACH was not answered OK");
    return std::nullopt;
}

// Each iteration: MAP a 4 KiB page, then UNMAP it, each request alone and awaited. Items are requests.
void map_unmap_pairs(benchmark::State& state, IommuRequestClient& client)
{
    uint64_t iova = 0x10'0000;
    for (auto _ : state) {
        if (client.map(kDomain, iova, iova + kPage - 1, kPhysStart, VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE) !=
                VIRTIO_IOMMU_S_OK ||
            client.unmap(kDomain, iova, iova + kPage - 1) != VIRTIO_IOMMU_S_OK) {
            state.SkipWithError("a MAP or UNMAP was not answered OK");
            return;
        }
        iova = (iova + kPage) & 0xffff'ffff;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 2);
}

// A clock's reading in seconds; nullopt when it cannot be read.
std::optional<double> seconds_on(clockid_t clock)
{
    timespec t{};
    if (clock_gettime(clock, &t) != 0)
        return std::nullopt;
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// QEMU, started once for every case that needs it and left running until the bench exits.
struct QemuPeer {
    std::unique_ptr<system::replay::QemuTarget> target;
    std::string error; // why there is no target
};

QemuPeer& qemu_peer()
{
    static QemuPeer peer = [] {
        QemuPeer p;
        auto started = system::replay::QemuTarget::start("qemu-system-x86_64", q35_config(), {kEndpoint});
        if (!started) {
            p.error = "QEMU could not be started: " + started.error().message;
            return p;
        }
        if (auto why = prepare((*started)->client())) {
            p.error = "QEMU's virtio-iommu-pci: " + *why + "\n" + (*started)->diagnostics();
            return p;
        }
        p.target = std::move(*started);
        return p;
    }();
    return peer;
}

// What a loop cost in QEMU and here: qtest traffic, QEMU's CPU time (all its threads), this thread's.
class CostMeter {
public:
    explicit CostMeter(system::qemu::QemuProcess& qemu) : qemu_(qemu)
    {
        clockid_t clock{};
        if (clock_getcpuclockid(qemu.pid(), &clock) == 0)
            qemu_clock_ = clock;
        before_ = sample();
    }

    // Per unit of work (a request, a round trip): counters in microseconds, and round trips.
    void report(benchmark::State& state, double units) const
    {
        const Sample after = sample();
        if (units <= 0 || !before_.ours || !after.ours)
            return;
        const double micro = 1e6 / units;
        state.counters["qtest_round_trips"] = static_cast<double>(after.requests - before_.requests) / units;
        state.counters["awaiting_reply_us"] =
            std::chrono::duration<double>(after.awaiting - before_.awaiting).count() * micro;
        state.counters["our_cpu_us"] = (*after.ours - *before_.ours) * micro;
        if (before_.qemu && after.qemu) // QEMU's CPU clock is readable on Linux; measured, never guessed
            state.counters["qemu_cpu_us"] = (*after.qemu - *before_.qemu) * micro;
    }

private:
    struct Sample {
        uint64_t requests = 0;
        std::chrono::nanoseconds awaiting{0};
        std::optional<double> qemu, ours;
    };
    Sample sample() const
    {
        const auto& traffic = qemu_.qtest().traffic();
        return {traffic.requests, traffic.awaiting_replies,
                qemu_clock_ ? seconds_on(*qemu_clock_) : std::nullopt, seconds_on(CLOCK_THREAD_CPUTIME_ID)};
    }

    system::qemu::QemuProcess& qemu_;
    std::optional<clockid_t> qemu_clock_;
    Sample before_;
};

void qemu_map_unmap(benchmark::State& state)
{
    QemuPeer& peer = qemu_peer();
    if (!peer.target) {
        state.SkipWithError(peer.error.c_str());
        return;
    }
    const CostMeter meter(peer.target->process());
    map_unmap_pairs(state, peer.target->client());
    if (auto failed = peer.target->failure())
        state.SkipWithError(failed->c_str());
    meter.report(state, 2.0 * static_cast<double>(state.iterations()));
}
BENCHMARK(qemu_map_unmap)->Name("qemu_peer/baseline_qemu/map_unmap_1_per_kick")->UseRealTime();

void ours_pci_map_unmap(benchmark::State& state)
{
    OursOnPci ours;
    if (auto why = prepare(ours.client)) {
        state.SkipWithError(why->c_str());
        return;
    }
    map_unmap_pairs(state, ours.client);
}
BENCHMARK(ours_pci_map_unmap)->Name("qemu_peer/ours/map_unmap_1_per_kick")->UseRealTime();

void ours_mmio_map_unmap(benchmark::State& state)
{
    system::replay::DeviceTarget ours(q35_config());
    if (auto why = prepare(ours.client())) {
        state.SkipWithError(why->c_str());
        return;
    }
    map_unmap_pairs(state, ours.client());
}
BENCHMARK(ours_mmio_map_unmap)->Name("qemu_peer/ours_virtio_mmio/map_unmap_1_per_kick")->UseRealTime();

// The floor under every QEMU request: one qtest round trip that asks QEMU for almost nothing (four bytes
// of guest RAM), so that what a MAP or UNMAP costs beyond it is QEMU's device work.
void qemu_round_trip(benchmark::State& state)
{
    QemuPeer& peer = qemu_peer();
    if (!peer.target) {
        state.SkipWithError(peer.error.c_str());
        return;
    }
    system::qemu::QtestClient& qtest = peer.target->process().qtest();
    const CostMeter meter(peer.target->process());
    for (auto _ : state) {
        if (!qtest.read(kPhysStart, 4)) {
            state.SkipWithError(qtest.failure().value_or("qtest read failed").c_str());
            return;
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    meter.report(state, static_cast<double>(state.iterations()));
}
BENCHMARK(qemu_round_trip)->Name("qemu_peer/qtest_round_trip/readl_of_ram")->UseRealTime();

} // namespace
