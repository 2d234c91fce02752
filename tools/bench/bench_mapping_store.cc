// The mapping store against the way QEMU stores mappings: a balanced tree of intervals with one heap
// node per mapping, looked up with a comparator under which overlapping intervals are equal
// (hw/virtio/virtio-iommu.c's GTree and interval_cmp; std::map is the faithful equivalent).
//
// Mappings are 4 KiB pages with 4 KiB gaps between them, inserted in random order.
#include <algorithm>
#include <malloc.h>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "hw/virtio-iommu/mapping_store.h"

namespace {

using viommu::iommu::Mapping;
using viommu::iommu::MappingStore;

constexpr uint64_t kStride = 0x2000;

// Counts what the baseline's nodes really cost, malloc's bookkeeping included.
inline std::size_t g_baseline_bytes = 0;
template <class T>
struct CountingAllocator {
    using value_type = T;
    CountingAllocator() = default;
    template <class U>
    CountingAllocator(const CountingAllocator<U>&) {}
    T* allocate(std::size_t n)
    {
        T* p = static_cast<T*>(::operator new(n * sizeof(T)));
        g_baseline_bytes += malloc_usable_size(p) + sizeof(std::size_t);
        return p;
    }
    void deallocate(T* p, std::size_t)
    {
        g_baseline_bytes -= malloc_usable_size(p) + sizeof(std::size_t);
        ::operator delete(p);
    }
    template <class U>
    bool operator==(const CountingAllocator<U>&) const { return true; }
};

struct Interval {
    uint64_t low, high;
};
struct IntervalLess {
    bool operator()(const Interval& a, const Interval& b) const { return a.high < b.low; }
};
struct Value {
    uint64_t phys;
    uint32_t flags;
};
using Baseline = std::map<Interval, Value, IntervalLess, CountingAllocator<std::pair<const Interval, Value>>>;

std::vector<uint64_t> shuffled(uint64_t n, uint64_t seed)
{
    std::vector<uint64_t> order(n);
    for (uint64_t i = 0; i < n; ++i)
        order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    return order;
}

// Built once per size and kept for every benchmark that needs it.
struct Stores {
    MappingStore ours;
    Baseline baseline;
    std::size_t baseline_bytes = 0;

    explicit Stores(uint64_t n)
    {
        const std::size_t before = g_baseline_bytes;
        for (uint64_t i : shuffled(n, n)) {
            ours.insert({i * kStride, i * kStride + 0xfff, i * 0x1000, 3});
            baseline.emplace(Interval{i * kStride, i * kStride + 0xfff}, Value{i * 0x1000, 3});
        }
        baseline_bytes = g_baseline_bytes - before;
    }
    static Stores& of(uint64_t n)
    {
        static std::map<uint64_t, std::unique_ptr<Stores>> cache;
        auto& s = cache[n];
        if (!s)
            s = std::make_unique<Stores>(n);
        return *s;
    }
};

enum class Pattern { kHitRandom, kHitSequential, kMissRandom };

std::vector<uint64_t> addresses(uint64_t n, Pattern p)
{
    std::vector<uint64_t> out(1 << 16);
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const uint64_t page = p == Pattern::kHitSequential ? i % n : rng() % n;
        out[i] = page * kStride + (p == Pattern::kMissRandom ? 0x1000 : 0) + (rng() & 0xff8);
    }
    return out;
}

template <bool Ours>
void translate(benchmark::State& state, Pattern pattern)
{
    const uint64_t n = static_cast<uint64_t>(state.range(0));
    Stores& s = Stores::of(n);
    const auto addrs = addresses(n, pattern);
    std::size_t i = 0;
    for (auto _ : state) {
        const uint64_t iova = addrs[i++ & (addrs.size() - 1)];
        if constexpr (Ours) {
            benchmark::DoNotOptimize(s.ours.find(iova));
        } else {
            const auto it = s.baseline.find(Interval{iova, iova});
            benchmark::DoNotOptimize(it == s.baseline.end() ? 0 : it->second.phys + (iova - it->first.low));
        }
    }
    state.SetItemsProcessed(state.iterations());
}

// One MAP and one UNMAP of a page in a gap, in a store holding n mappings.
template <bool Ours>
void map_unmap(benchmark::State& state)
{
    const uint64_t n = static_cast<uint64_t>(state.range(0));
    Stores& s = Stores::of(n);
    const auto order = shuffled(n, 7);
    std::size_t i = 0;
    for (auto _ : state) {
        const uint64_t start = order[i++ % n] * kStride + 0x1000;
        if constexpr (Ours) {
            s.ours.insert({start, start + 0xfff, 0, 3});
            (void)s.ours.remove_range(start, start + 0xfff, [](const Mapping&) {});
        } else {
            s.baseline.emplace(Interval{start, start + 0xfff}, Value{0, 3});
            s.baseline.erase(Interval{start, start + 0xfff});
        }
    }
    state.SetItemsProcessed(state.iterations());
    const double bytes = Ours ? static_cast<double>(s.ours.memory_bytes()) : static_cast<double>(s.baseline_bytes);
    state.counters["bytes_per_mapping"] = bytes / static_cast<double>(n);
}

#define STORE_CASES(fn, name)                                                                             \
    BENCHMARK_TEMPLATE(fn, true)->Name("mapping_store/ours/" name)->Arg(1000)->Arg(1000000)->ArgName("mappings"); \
    BENCHMARK_TEMPLATE(fn, false)->Name("mapping_store/baseline/" name)->Arg(1000)->Arg(1000000)->ArgName("mappings")

void hit_random_ours(benchmark::State& s) { translate<true>(s, Pattern::kHitRandom); }
void hit_random_base(benchmark::State& s) { translate<false>(s, Pattern::kHitRandom); }
void hit_seq_ours(benchmark::State& s) { translate<true>(s, Pattern::kHitSequential); }
void hit_seq_base(benchmark::State& s) { translate<false>(s, Pattern::kHitSequential); }
void miss_random_ours(benchmark::State& s) { translate<true>(s, Pattern::kMissRandom); }
void miss_random_base(benchmark::State& s) { translate<false>(s, Pattern::kMissRandom); }

BENCHMARK(hit_random_ours)->Name("mapping_store/ours/lookup_hit_random")->Arg(1000)->Arg(1000000)->ArgName("mappings");
BENCHMARK(hit_random_base)->Name("mapping_store/baseline/lookup_hit_random")->Arg(1000)->Arg(1000000)->ArgName("mappings");
BENCHMARK(hit_seq_ours)->Name("mapping_store/ours/lookup_hit_sequential")->Arg(1000)->Arg(1000000)->ArgName("mappings");
BENCHMARK(hit_seq_base)->Name("mapping_store/baseline/lookup_hit_sequential")->Arg(1000)->Arg(1000000)->ArgName("mappings");
BENCHMARK(miss_random_ours)->Name("mapping_store/ours/lookup_miss_random")->Arg(1000)->Arg(1000000)->ArgName("mappings");
BENCHMARK(miss_random_base)->Name("mapping_store/baseline/lookup_miss_random")->Arg(1000)->Arg(1000000)->ArgName("mappings");
STORE_CASES(map_unmap, "map_unmap");

} // namespace
