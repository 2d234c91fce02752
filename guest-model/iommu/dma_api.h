// The DMA API as a driver uses it (dma_map_single(), dma_unmap_single(), dma_alloc_coherent()), over
// dma-iommu for devices in a DMA domain (drivers/iommu/dma-iommu.c) and dma-direct otherwise:
//  - an IOVA per mapping from the domain's allocator (iommu/iova.h), below 4 GiB first for PCI devices
//    that can do more (the 32-bit "SAC" preference), never in a reserved region or PCI window;
//  - iommu_map() splits a range into the largest pages the IOMMU supports (iommu_pgsize()) and calls the
//    driver's map_pages() for each run, then iotlb_sync_map();
//  - unmapping is strict (iotlb_sync at once, IOVA freed) in a DMA domain, and lazy in a DMA-FQ domain:
//    the IOVA goes to a flush queue, freed after flush_iotlb_all() when an IOVA is added to a full queue
//    (255 entries: IOVA_FQ_SIZE is 256 slots, one kept free) or its timer (IOVA_FQ_TIMEOUT 10 ms)
//    expires on the virtual clock. Linux has a queue per CPU; the model, one CPU.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "base/expected.h"
#include "guest-model/iommu/core.h"
#include "guest-model/iommu/iova.h"
#include "guest-model/kernel/clock.h"
#include "guest-model/kernel/printk.h"
#include "guest-model/mm/phys_alloc.h"

namespace viommu::guest::iommu {

enum class DmaDirection { kBidirectional, kToDevice, kFromDevice };

// One entry of a scatterlist (struct scatterlist: sg_phys(), length).
struct SgSegment {
    uint64_t phys = 0;
    uint64_t len = 0;
};

struct CoherentBuffer {
    GuestAddr cpu;     // guest-physical memory the CPU uses
    uint64_t dma = 0;  // the address the device uses
    uint64_t size = 0;
};

class DmaApi {
public:
    DmaApi(IommuCore& core, const kernel::VirtualClock& clock, mm::PhysAllocator& ram);

    // dma_set_mask(): what the device can address (32 bits until its driver says otherwise).
    void set_dma_mask(const driver_core::Device& dev, uint64_t mask) { masks_[&dev] = mask; }

    [[nodiscard]] Expected<uint64_t, int> map_single(driver_core::Device& dev, uint64_t phys, uint64_t size, DmaDirection dir);
    void unmap_single(driver_core::Device& dev, uint64_t dma, uint64_t size, DmaDirection dir);
    // dma_map_sg() through iommu_dma_map_sg(): one IOVA range for the whole list, each segment's run
    // mapped without a sync and one iotlb_sync_map() at the end (iommu_map_sg()); the DMA address of
    // each segment. Not modelled: the padding that keeps a segment inside the device's segment boundary.
    [[nodiscard]] Expected<std::vector<uint64_t>, int> map_sg(driver_core::Device& dev, std::span<const SgSegment> sg,
                                                              DmaDirection dir);
    // dma_unmap_sg(): the list's whole IOVA range at once (__iommu_dma_unmap()).
    void unmap_sg(driver_core::Device& dev, std::span<const uint64_t> dma, std::span<const SgSegment> sg,
                  DmaDirection dir);
    [[nodiscard]] Expected<CoherentBuffer, int> alloc_coherent(driver_core::Device& dev, uint64_t size);
    void free_coherent(driver_core::Device& dev, const CoherentBuffer& buf);

    // The flush-queue timers whose deadline passed on the virtual clock fire.
    void run_timers();
    // Every flush queue now (what happens before a domain goes away).
    void flush_queues();

    // Whether the device's DMA goes through an IOMMU translation (a DMA or DMA-FQ domain).
    bool translated(const driver_core::Device& dev) const;
    // IOTLB invalidations asked of the IOMMU driver: an iotlb_sync() after each unmap in a strict (DMA)
    // domain, a flush_iotlb_all() for each flush of a DMA-FQ domain's queue.
    uint64_t iotlb_flushes() const { return iotlb_flushes_; }

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
    Cookie* cookie(driver_core::Device& dev, Domain& domain);
    void fq_flush(Domain& domain, Cookie& c);
    uint64_t mask(const driver_core::Device& dev) const;

    IommuCore& core_;
    const kernel::VirtualClock& clock_;
    mm::PhysAllocator& ram_;
    std::map<const driver_core::Device*, uint64_t> masks_;
    std::map<const Domain*, Cookie> cookies_;
    uint64_t iotlb_flushes_ = 0;
};

// iommu_map(): [iova, iova + size) to paddr in runs of the largest pages the driver supports, then
// iotlb_sync_map(); on failure what was mapped is unmapped again. With dynamic debug the log gets
// __iommu_map()'s pr_debug() lines ("map: ...", then "mapping: ..." for each run).
int iommu_map(kernel::KernelLog& log, IommuDriver& drv, Domain& domain, uint64_t iova, uint64_t paddr, uint64_t size,
              int prot);
// iommu_unmap(): the bytes unmapped, which may be more than asked when a mapping is larger; with
// dynamic debug __iommu_unmap()'s "unmap this: ..." and one "unmapped: ..." for each run.
uint64_t iommu_unmap(kernel::KernelLog& log, IommuDriver& drv, Domain& domain, uint64_t iova, uint64_t size);

// iommu_pgsize(): the page size for the next run of [iova, iova + size) at paddr, and how many of them.
uint64_t iommu_pgsize(uint64_t pgsize_bitmap, uint64_t iova, uint64_t paddr, uint64_t size, uint64_t& count);

} // namespace viommu::guest::iommu
