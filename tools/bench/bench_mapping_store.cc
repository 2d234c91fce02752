// The mapping store against two baselines that store mappings the way QEMU does: an ordered map with
// one key per mapping, looked up with a comparator under which overlapping intervals are equal
// (hw/virtio/virtio-iommu.c's GTree and interval_cmp). The maps are std::map, the faithful equivalent of
// the GTree (one heap node per mapping), and absl::btree_map, a general-purpose B-tree (many mappings a
// node), which is what the hand-written tree would be replaced by. Both baselines are the same code over
// the two map types (IntervalMap below), so neither does less work than the other.
//
// Mappings are 4 KiB pages with 4 KiB gaps between them, inserted in random order.
//
// A third baseline, the floor, is no store at all: a flat table with one slot per mapping, indexed by the
// address divided by the stride, which only this benchmark's layout allows. Its lookup is one memory
// access, the least any store can do, so ours / floor at 1,000,000 mappings says how far a lookup is from
// the memory system's limit on the machine of the run, measured in that run (the aim "about one DRAM
// access plus a TLB miss" cannot be a fixed number of nanoseconds on a shared VM). It has no map+unmap case:
// filling a slot is not a comparable operation.
//
// Every store runs as it would in a release build: unless NDEBUG, Abseil's headers check that each
// comparison is a strict weak ordering by repeating it (btree.h, key_compare_adapter::checked_compare),
// which made absl::btree_map's lookups up to twice as slow in a trial. std::map has no such checks,
// and the hand-written tree is compiled apart (its one assert, on erase, stays).
#ifndef NDEBUG
#define NDEBUG
#endif
#include <algorithm>
#include <bit>
#include <cstdint>
#include <malloc.h>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <absl/container/btree_map.h>
#include <benchmark/benchmark.h>

#include "hw/virtio-iommu/mapping_store.h"

namespace {

using viommu::Iova;
using viommu::hw::virtio_iommu::IovaRange;
using viommu::hw::virtio_iommu::Mapping;
using viommu::hw::virtio_iommu::MappingStore;

constexpr uint64_t kStride = 0x2000;
constexpr uint32_t kReadWrite = 3;

// Counts what a baseline's nodes really cost, malloc's bookkeeping included, into the counter of the map
// that owns the allocator.
template <class T>
struct CountingAllocator {
    using value_type = T;
    std::size_t* bytes;

    explicit CountingAllocator(std::size_t* counter) : bytes(counter) {}
    template <class U>
    CountingAllocator(const CountingAllocator<U>& other) : bytes(other.bytes) {}
    T* allocate(std::size_t n)
    {
        T* p = static_cast<T*>(::operator new(n * sizeof(T)));
        *bytes += malloc_usable_size(p) + sizeof(std::size_t);
        return p;
    }
    void deallocate(T* p, std::size_t)
    {
        *bytes -= malloc_usable_size(p) + sizeof(std::size_t);
        ::operator delete(p);
    }
    template <class U>
    bool operator==(const CountingAllocator<U>& other) const { return bytes == other.bytes; }
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

// The three stores behind one interface: translate an address (0 when unmapped), map, unmap, and the
// bytes the store held once built.
class Ours {
public:
    uint64_t translate(uint64_t iova) const
    {
        const std::optional<Mapping> m = store_.find(Iova(iova));
        return m ? m->phys_start + (iova - m->iova.first.value()) : 0;
    }
    void map(uint64_t start, uint64_t end, uint64_t phys) { store_.insert({range(start, end), phys, kReadWrite}); }
    // The device's UNMAP: it also refuses to split a mapping, which the baselines do not check.
    void unmap(uint64_t start, uint64_t end) { (void)store_.remove_range(range(start, end), [](const Mapping&) {}); }
    std::size_t bytes() const { return store_.memory_bytes(); }

private:
    static IovaRange range(uint64_t start, uint64_t end) { return {Iova(start), Iova(end)}; }
    MappingStore store_;
};

template <template <class, class, class, class> class OrderedMap>
class IntervalMap {
public:
    IntervalMap() = default;
    IntervalMap(const IntervalMap&) = delete; // the allocator points at bytes_
    IntervalMap& operator=(const IntervalMap&) = delete;

    uint64_t translate(uint64_t iova) const
    {
        const auto it = map_.find(Interval{iova, iova});
        return it == map_.end() ? 0 : it->second.phys + (iova - it->first.low);
    }
    void map(uint64_t start, uint64_t end, uint64_t phys)
    {
        map_.emplace(Interval{start, end}, Value{phys, kReadWrite});
    }
    void unmap(uint64_t start, uint64_t end) { map_.erase(Interval{start, end}); }
    std::size_t bytes() const { return bytes_; }

private:
    using Entry = std::pair<const Interval, Value>;
    std::size_t bytes_ = 0;
    OrderedMap<Interval, Value, IntervalLess, CountingAllocator<Entry>> map_{IntervalLess{},
                                                                            CountingAllocator<Entry>(&bytes_)};
};

// The floor: slot i holds the mapping at i * kStride, as the tree's entries do (28 bytes, here 32).
class Floor {
public:
    uint64_t translate(uint64_t iova) const
    {
        const uint64_t i = iova / kStride;
        if (i >= slots_.size())
            return 0;
        const Slot& s = slots_[i];
        return s.flags != 0 && iova >= s.start && iova <= s.end ? s.phys + (iova - s.start) : 0;
    }
    void map(uint64_t start, uint64_t end, uint64_t phys)
    {
        const uint64_t i = start / kStride;
        if (i >= slots_.size())
            slots_.resize(i + 1);
        slots_[i] = Slot{start, end, phys, kReadWrite};
    }
    std::size_t bytes() const { return slots_.capacity() * sizeof(Slot); }

private:
    struct Slot {
        uint64_t start = 0, end = 0, phys = 0;
        uint32_t flags = 0;
    };
    std::vector<Slot> slots_;
};

using StdMap = IntervalMap<std::map>;
using AbslBtree = IntervalMap<absl::btree_map>;

std::vector<uint64_t> shuffled(uint64_t n, uint64_t seed)
{
    std::vector<uint64_t> order(n);
    for (uint64_t i = 0; i < n; ++i)
        order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    return order;
}

// A store of n mappings, built once per kind and size and kept for every benchmark that needs it (a
// million mappings take seconds to insert). Bytes are taken when it is built: the map+unmap case leaves
// the store as it found it.
template <class Store>
struct Built {
    Store store;
    std::size_t bytes = 0;

    explicit Built(uint64_t n)
    {
        for (uint64_t i : shuffled(n, n))
            store.map(i * kStride, i * kStride + 0xfff, i * 0x1000);
        bytes = store.bytes();
    }
    static Built& of(uint64_t n)
    {
        static std::map<uint64_t, std::unique_ptr<Built>> cache;
        auto& b = cache[n];
        if (!b)
            b = std::make_unique<Built>(n);
        return *b;
    }
};

// kHitRandomChained looks up the same random addresses as kHitRandom, but each lookup's address depends on
// the result of the one before (through a bit that is always zero, which the processor cannot know), so
// lookups cannot overlap: it measures a lookup's latency, where kHitRandom measures its throughput.
enum class Pattern { kHitRandom, kHitRandomChained, kHitSequential, kMissRandom };

// The addresses a case looks up in turn: at least as many as there are mappings (a power of two), so a
// random pattern reaches the whole store, as the guest's DMA over all its mappings would, and not a
// subset that a store laid out by address could keep in cache.
std::vector<uint64_t> addresses(uint64_t n, Pattern p)
{
    std::vector<uint64_t> out(std::max<uint64_t>(std::bit_ceil(n), 1 << 16));
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const uint64_t page = p == Pattern::kHitSequential ? i % n : rng() % n;
        out[i] = page * kStride + (p == Pattern::kMissRandom ? 0x1000 : 0) + (rng() & 0xff8);
    }
    return out;
}

template <class Store, Pattern P>
void translate(benchmark::State& state)
{
    const uint64_t n = static_cast<uint64_t>(state.range(0));
    const Store& s = Built<Store>::of(n).store;
    const auto addrs = addresses(n, P);
    const std::size_t mask = addrs.size() - 1;
    std::size_t i = 0;
    if constexpr (P == Pattern::kHitRandomChained) {
        uint64_t result = 0;
        for (auto _ : state) {
            result = s.translate(addrs[(i++ + (result & 1)) & mask]);
            benchmark::DoNotOptimize(result);
        }
    } else {
        for (auto _ : state)
            benchmark::DoNotOptimize(s.translate(addrs[i++ & mask]));
    }
    state.SetItemsProcessed(state.iterations());
}

// One MAP and one UNMAP of a page in a gap, in a store holding n mappings.
template <class Store>
void map_unmap(benchmark::State& state)
{
    const uint64_t n = static_cast<uint64_t>(state.range(0));
    Built<Store>& built = Built<Store>::of(n);
    const auto order = shuffled(n, 7);
    std::size_t i = 0;
    for (auto _ : state) {
        const uint64_t start = order[i++ % n] * kStride + 0x1000;
        built.store.map(start, start + 0xfff, 0);
        built.store.unmap(start, start + 0xfff);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes_per_mapping"] = static_cast<double>(built.bytes) / static_cast<double>(n);
}

// Every case for one store.
template <class Store>
void register_cases(const std::string& kind)
{
    const auto add = [&](const std::string& name, void (*fn)(benchmark::State&)) {
        benchmark::RegisterBenchmark(("mapping_store/" + kind + "/" + name).c_str(), fn)
            ->Arg(1000)
            ->Arg(1000000)
            ->ArgName("mappings");
    };
    add("lookup_hit_random", translate<Store, Pattern::kHitRandom>);
    add("lookup_hit_random_chained", translate<Store, Pattern::kHitRandomChained>);
    add("lookup_hit_sequential", translate<Store, Pattern::kHitSequential>);
    add("lookup_miss_random", translate<Store, Pattern::kMissRandom>);
    if constexpr (requires(Store& s) { s.unmap(0, 0); })
        add("map_unmap", map_unmap<Store>);
}

// The ratio table of viommu-bench pairs "<group>/ours/..." with every "<group>/baseline.../...".
const bool registered = [] {
    register_cases<Ours>("ours");
    register_cases<StdMap>("baseline");
    register_cases<AbslBtree>("baseline_absl");
    register_cases<Floor>("baseline_floor");
    return true;
}();

} // namespace
