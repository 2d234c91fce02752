// The DMA API as a driver uses it (dma_map_single(), dma_unmap_single(), dma_alloc_coherent()), over
// dma-iommu for devices in a DMA domain (drivers/iommu/dma-iommu.c) and dma-direct otherwise:
//  - an IOVA per mapping from the domain's allocator (iommu/iova.h), below 4 GiB first for PCI devices
//    that can do more (the 32-bit "SAC" preference), never in a reserved region or PCI window;
//  - iommu_map() splits a range into the largest pages the IOMMU supports (iommu_pgsize()) and calls the
//    driver's map_pages() for each run, then iotlb_sync_map();
//  - unmapping is strict (iotlb_sync at once, IOVA freed) in a DMA domain, and lazy in a DMA-FQ domain:
//    the IOVA goes to a flush queue, freed after flush_iotlb_all() when the queue fills (IOVA_FQ_SIZE
//    256) or its timer (IOVA_FQ_TIMEOUT 10 ms) expires on the virtual clock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "base/expected.h"
#include "guest-model/iommu/core.h"
#include "guest-model/iommu/iova.h"
#include "guest-model/kernel/clock.h"
#include "guest-model/mm/phys_alloc.h"

namespace viommu::guest::iommu {

enum class DmaDirection { kBidirectional, kToDevice, kFromDevice };

struct CoherentBuffer {
    GuestAddr cpu;     // guest-physical memory the CPU uses
    uint64_t dma = 0;  // the address the device uses
    uint64_t size = 0;
};

class DmaApi {
public:
    DmaApi(IommuCore& core, const VirtualClock& clock, PhysAllocator& ram);

    // dma_set_mask(): what the device can address (32 bits until its driver says otherwise).
    void set_dma_mask(const Device& dev, uint64_t mask) { masks_[&dev] = mask; }

    [[nodiscard]] Expected<uint64_t, int> map_single(Device& dev, uint64_t phys, uint64_t size, DmaDirection dir);
    void unmap_single(Device& dev, uint64_t dma, uint64_t size, DmaDirection dir);
    [[nodiscard]] Expected<CoherentBuffer, int> alloc_coherent(Device& dev, uint64_t size);
    void free_coherent(Device& dev, const CoherentBuffer& buf);

    // The flush-queue timers whose deadline passed on the virtual clock fire.
    void run_timers();
    // Every flush queue now (what happens before a domain goes away).
    void flush_queues();

    // Whether the device's DMA goes through an IOMMU translation (a DMA or DMA-FQ domain).
    bool translated(const Device& dev) const;

private:
    struct Cookie {
        std::unique_ptr<IovaAllocator> iovad;
        struct Queued {
            uint64_t iova;
            uint64_t size;
        };
        std::vector<Queued> fq;
        uint64_t fq_deadline = 0;
        IommuDriver* drv = nullptr;
    };
    Cookie* cookie(Device& dev, Domain& domain);
    int iommu_map(IommuDriver& drv, Domain& domain, uint64_t iova, uint64_t paddr, uint64_t size, int prot);
    uint64_t iommu_unmap(IommuDriver& drv, Domain& domain, uint64_t iova, uint64_t size);
    void fq_flush(Domain& domain, Cookie& c);
    uint64_t mask(const Device& dev) const;

    IommuCore& core_;
    const VirtualClock& clock_;
    PhysAllocator& ram_;
    std::map<const Device*, uint64_t> masks_;
    std::map<const Domain*, Cookie> cookies_;
};

// iommu_pgsize(): the page size for the next run of [iova, iova + size) at paddr, and how many of them.
uint64_t iommu_pgsize(uint64_t pgsize_bitmap, uint64_t iova, uint64_t paddr, uint64_t size, uint64_t& count);

} // namespace viommu::guest::iommu
