// Booting guests, against the aims in docs/PERFORMANCE.md: the built-in default guest end to end, and a
// batch of 1,000 on a thread pool.
//  boot/default_guest            one boot of the default guest's spec (hardware, kernel, DMA, VFIO):
//                                median wall time per boot. Aim: under 20 ms.
//  boot/default_guest_from_xml   the same with libvirt's validation and the XML mapping in front, as
//                                viommu-boot does it.
//  boot/batch/threads:N          1,000 boots of the default guest on a Boost.Asio thread pool of N
//                                threads; items_per_second is guests per second. Aim: scaling with cores.
#include <thread>

#include <benchmark/benchmark.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "system/boot/guest.h"
#include "system/boot/libvirt_domain.h"

namespace {

using namespace viommu::guest;
using namespace viommu::guest::profiles;


using namespace viommu::system::boot;
using namespace viommu::guest;

constexpr int kBatch = 1000;

std::optional<GuestSpec> default_spec(benchmark::State& state)
{
    auto spec = parse_domain_xml(default_guest_xml(), kDefaultGuestSource);
    if (!spec) {
        state.SkipWithError(spec.error().what().c_str());
        return std::nullopt;
    }
    return *spec;
}

void default_guest(benchmark::State& state)
{
    const auto spec = default_spec(state);
    auto profile = Profile::named("debian-12-6.12");
    if (!spec || !profile)
        return;
    for (auto _ : state)
        benchmark::DoNotOptimize(boot_guest(*spec, *profile));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(default_guest)->Name("boot/default_guest")->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

void default_guest_from_xml(benchmark::State& state)
{
    auto profile = Profile::named("debian-12-6.12");
    if (!profile)
        return;
    for (auto _ : state) {
        auto spec = parse_domain_xml(default_guest_xml(), kDefaultGuestSource);
        if (!spec) {
            state.SkipWithError(spec.error().what().c_str());
            return;
        }
        benchmark::DoNotOptimize(boot_guest(*spec, *profile));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(default_guest_from_xml)
    ->Name("boot/default_guest_from_xml")
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

void batch(benchmark::State& state)
{
    const auto spec = default_spec(state);
    auto profile = Profile::named("debian-12-6.12");
    if (!spec || !profile)
        return;
    const auto threads = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        boost::asio::thread_pool pool(threads);
        for (int i = 0; i < kBatch; ++i)
            boost::asio::post(pool, [&] { benchmark::DoNotOptimize(boot_guest(*spec, *profile)); });
        pool.join();
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
    state.counters["threads"] = static_cast<double>(threads);
}
BENCHMARK(batch)
    ->Name("boot/batch")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency())))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

} // namespace
