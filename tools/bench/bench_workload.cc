// What a vIOMMU costs per I/O on this device, measured (docs/PERFORMANCE.md, "What a vIOMMU costs per
// I/O"): the default guest booted under debian-12-6.12, then 4,096 4 KiB random reads
// (disk-4k-randread) through each of its two disks (virtio-blk and AHCI), in the three modes of its
// DMA domains:
//  workload/ours/disk-4k-randread                  strict (iommu.strict=1): every map and unmap waits
//  workload/baseline_lazy/disk-4k-randread         lazy (DMA-FQ, the default): unmaps flushed 256 at a time
//  workload/baseline_passthrough/disk-4k-randread  passthrough (iommu.passthrough=1): no request at all
// items_per_second is I/Os per second of real time, the boot included (about 1% of an iteration); the
// ratios printed after the run are strict's throughput over each other mode's. The counters give the
// events per I/O the run counted, the same figures as `viommu-boot --workload`.
#include <benchmark/benchmark.h>

#include "system/boot/guest.h"
#include "system/boot/libvirt_domain.h"

namespace {

using namespace viommu::system::boot;
namespace workload = viommu::system::workload;

constexpr unsigned kIos = 4096;

enum class Mode { kStrict, kLazy, kPassthrough };

void disk_4k_randread(benchmark::State& state, Mode mode)
{
    auto spec = parse_domain_xml(default_guest_xml(), kDefaultGuestSource);
    auto profile = viommu::guest::profiles::Profile::named("debian-12-6.12");
    if (!spec || !profile) {
        state.SkipWithError("the default guest or its kernel profile did not load");
        return;
    }
    if (mode == Mode::kStrict)
        spec->cmdline.strict = true;
    if (mode == Mode::kPassthrough)
        spec->cmdline.passthrough = true;
    BootOptions options;
    options.workload = workload::Request{workload::find_pattern("disk-4k-randread"), {}, false, kIos};
    workload::Events events;
    uint64_t ios = 0;
    for (auto _ : state) {
        const GuestReport r = boot_guest(*spec, *profile, options);
        for (const workload::EndpointResult& e : r.workload->endpoints) {
            if (!e.error.empty()) {
                state.SkipWithError(e.error.c_str());
                return;
            }
            ios += e.ios;
            events.map_requests += e.events.map_requests;
            events.unmap_requests += e.events.unmap_requests;
            events.kicks += e.events.kicks;
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(ios));
    const auto per_io = [&](uint64_t n) { return benchmark::Counter(ios ? static_cast<double>(n) / ios : 0); };
    state.counters["requests_per_io"] = per_io(events.map_requests + events.unmap_requests);
    state.counters["kicks_per_io"] = per_io(events.kicks);
}

BENCHMARK_CAPTURE(disk_4k_randread, strict, Mode::kStrict)
    ->Name("workload/ours/disk-4k-randread")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(disk_4k_randread, lazy, Mode::kLazy)
    ->Name("workload/baseline_lazy/disk-4k-randread")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(disk_4k_randread, passthrough, Mode::kPassthrough)
    ->Name("workload/baseline_passthrough/disk-4k-randread")->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
