// The virtio-iommu through its whole path: the driver writes requests into guest memory and kicks, the
// device pops, decodes, applies and answers, the driver reaps. And device-level translation.
#include <benchmark/benchmark.h>

#include <random>

#include "system/machine/machine.h"
#include "guest-model/virtio-iommu/prepared_client.h"
#include "hw/virtio-iommu/device.h"

namespace {

using namespace viommu;

struct Bench {
    system::machine::Machine machine{system::machine::MachineConfig{0x4000'0000, 64ull << 20}};
    hw::virtio_iommu::VirtioIommu& device = machine.add_device<hw::virtio_iommu::VirtioIommu>(hw::virtio_iommu::IommuConfig{});
    guest::virtio_iommu::PreparedClient client{machine.handle(0), 64};

    Bench()
    {
        if (!client.bring_up())
            throw std::runtime_error("bring-up failed");
        client.stage(0, guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.domain = 1, .endpoint = 8}));
        if (!client.submit(1) || client.status(0) != VIRTIO_IOMMU_S_OK)
            throw std::runtime_error("attach failed");
    }
    static guest::virtio_iommu::req::Encoded map(uint64_t iova)
    {
        return guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Map{.domain = 1,
                                                  .virt_start = iova,
                                                  .virt_end = iova + 0xfff,
                                                  .phys_start = 0x40000000,
                                                  .flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE});
    }
    static guest::virtio_iommu::req::Encoded unmap(uint64_t iova)
    {
        return guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Unmap{.domain = 1, .virt_start = iova, .virt_end = iova + 0xfff});
    }
};

// MAP+UNMAP pairs, `batch` requests a notification (batch 1: a MAP kick, then an UNMAP kick).
void map_unmap_requests(benchmark::State& state)
{
    const auto batch = static_cast<uint32_t>(state.range(0));
    Bench b;
    uint64_t iova = 0x100000;
    const uint32_t pairs = std::max<uint32_t>(1, batch / 2);
    for (auto _ : state) {
        if (batch == 1) {
            b.client.stage(0, Bench::map(iova));
            const bool mapped = b.client.submit(1) && b.client.status(0) == VIRTIO_IOMMU_S_OK;
            b.client.stage(0, Bench::unmap(iova));
            if (!mapped || !b.client.submit(1) || b.client.status(0) != VIRTIO_IOMMU_S_OK) {
                state.SkipWithError("request failed");
                return;
            }
        } else {
            for (uint32_t p = 0; p < pairs; ++p) {
                b.client.stage(2 * p, Bench::map(iova + p * 0x1000));
                b.client.stage(2 * p + 1, Bench::unmap(iova + p * 0x1000));
            }
            if (!b.client.submit(2 * pairs)) {
                state.SkipWithError("requests not returned");
                return;
            }
        }
        iova = (iova + 0x100000) & 0xffffffff;
    }
    for (uint32_t s = 0; s < std::min(batch, 2 * pairs); ++s)
        if (b.client.status(s) != VIRTIO_IOMMU_S_OK)
            state.SkipWithError("a request failed");
    state.SetItemsProcessed(state.iterations() * pairs);
    state.counters["requests_per_kick"] = batch;
}
BENCHMARK(map_unmap_requests)->Name("iommu/ours/map_unmap_pairs")->Arg(1)->Arg(64)->ArgName("requests_per_kick");

// Endpoint DMA through VirtioIommu::translate (endpoint -> domain -> mapping -> permission).
void device_translate(benchmark::State& state)
{
    const uint64_t n = static_cast<uint64_t>(state.range(0));
    static std::map<uint64_t, std::unique_ptr<Bench>> built;
    auto& b = built[n];
    if (!b) {
        b = std::make_unique<Bench>();
        for (uint64_t i = 0; i < n; i += 64) {
            const uint32_t count = static_cast<uint32_t>(std::min<uint64_t>(64, n - i));
            for (uint32_t k = 0; k < count; ++k)
                b->client.stage(k, Bench::map((i + k) * 0x2000));
            if (!b->client.submit(count)) {
                state.SkipWithError("populating failed");
                return;
            }
        }
    }
    std::vector<uint64_t> addrs(1 << 16);
    std::mt19937_64 rng(1);
    for (auto& a : addrs)
        a = (rng() % n) * 0x2000 + (rng() & 0xff8);
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(b->device.translate(hw::virtio_iommu::EndpointId(8), Iova(addrs[i++ & 0xffff]), hw::virtio_iommu::Access::kRead));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(device_translate)->Name("iommu/ours/translate_hit_random")->Arg(1000)->Arg(1000000)->ArgName("mappings");

} // namespace
