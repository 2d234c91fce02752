#include "guest-model/iommu/dma_api.h"

#include <bit>

#include "guest-model/kernel/errno.h"

namespace viommu::guest::iommu {

namespace {
constexpr uint64_t kDma32 = 0xffffffff;
constexpr std::size_t kFqSize = 256;                // IOVA_FQ_SIZE
constexpr uint64_t kFqTimeoutNs = 10 * 1000 * 1000; // IOVA_FQ_TIMEOUT, 10 ms

int dir_to_prot(DmaDirection dir)
{
    // dma_info_to_prot() for a coherent device.
    switch (dir) {
    case DmaDirection::kBidirectional: return prot::kRead | prot::kWrite | prot::kCache;
    case DmaDirection::kToDevice: return prot::kRead | prot::kCache;
    case DmaDirection::kFromDevice: return prot::kWrite | prot::kCache;
    }
    return 0;
}

uint64_t genmask(unsigned high) { return high >= 63 ? ~uint64_t{0} : (uint64_t{2} << high) - 1; }
unsigned fls(uint64_t v) { return 63 - static_cast<unsigned>(std::countl_zero(v)); } // v != 0
unsigned ffs(uint64_t v) { return static_cast<unsigned>(std::countr_zero(v)); }     // v != 0
} // namespace

uint64_t iommu_pgsize(uint64_t pgsize_bitmap, uint64_t iova, uint64_t paddr, uint64_t size, uint64_t& count)
{
    const uint64_t addr_merge = paddr | iova;
    // Page sizes supported and small enough for size, then no larger than the addresses' alignment.
    uint64_t pgsizes = pgsize_bitmap & genmask(fls(size));
    if (addr_merge)
        pgsizes &= genmask(ffs(addr_merge));
    const unsigned idx = fls(pgsizes);
    const uint64_t pgsize = uint64_t{1} << idx;
    // If a bigger page fits further on, stop this run at its boundary.
    const uint64_t bigger = pgsize_bitmap & ~genmask(idx);
    if (bigger) {
        const uint64_t next = uint64_t{1} << ffs(bigger);
        if (!((iova ^ paddr) & (next - 1))) {
            const uint64_t offset = next - (addr_merge & (next - 1));
            if (offset + next <= size)
                size = offset;
        }
    }
    count = size >> idx;
    return pgsize;
}

DmaApi::DmaApi(IommuCore& core, const kernel::VirtualClock& clock, mm::PhysAllocator& ram) : core_(core), clock_(clock), ram_(ram) {}

uint64_t DmaApi::mask(const driver_core::Device& dev) const
{
    const auto it = masks_.find(&dev);
    return it == masks_.end() ? kDma32 : it->second;
}

bool DmaApi::translated(const driver_core::Device& dev) const
{
    const Group* g = core_.group_of(dev);
    return g && g->domain() &&
           (g->domain()->type() == DomainType::kDma || g->domain()->type() == DomainType::kDmaFq);
}

DmaApi::Cookie* DmaApi::cookie(driver_core::Device& dev, Domain& domain)
{
    auto [it, fresh] = cookies_.try_emplace(&domain);
    Cookie& c = it->second;
    if (fresh) {
        // iommu_dma_init_domain(): the aperture, the granule, and the reserved ranges of the device.
        IommuDriver* drv = core_.iommu_of(dev);
        const Geometry g = drv->geometry();
        const uint64_t bitmap = drv->pgsize_bitmap();
        c.drv = drv;
        c.iovad = std::make_unique<IovaAllocator>(bitmap & (~bitmap + 1), g.aperture_start, g.aperture_end);
        for (const auto& [lo, hi] : core_.config().pci_windows)
            c.iovad->reserve(lo, hi);
        if (const DeviceIommu* di = core_.device(dev))
            for (const ResvRegion& r : di->resv)
                if (r.type != ResvType::kSwMsi) // "We ARE the software that manages these!"
                    c.iovad->reserve(r.start, r.last());
    }
    return &c;
}

// drivers/iommu/iommu.c's pr_debug()s (pr_fmt "iommu: "), the same in v6.1 and v6.12. %pa prints a
// phys_addr_t zero-padded to 16 hex digits on a 64-bit kernel (lib/vsprintf.c:address_val()).
namespace {
// __iommu_map(): the runs of [iova, iova + size), without iotlb_sync_map().
int iommu_map_runs(kernel::KernelLog& log, IommuDriver& drv, Domain& domain, uint64_t iova, uint64_t paddr, uint64_t size,
                   int prot)
{
    log.print(kernel::LogLevel::debug, "iommu: map: iova 0x{:x} pa 0x{:016x} size 0x{:x}", iova, paddr, size);
    uint64_t done = 0;
    while (done < size) {
        uint64_t count = 0;
        const uint64_t pgsize = iommu_pgsize(drv.pgsize_bitmap(), iova + done, paddr + done, size - done, count);
        log.print(kernel::LogLevel::debug, "iommu: mapping: iova 0x{:x} pa 0x{:016x} pgsize 0x{:x} count {}",
                  iova + done, paddr + done, pgsize, count);
        uint64_t mapped = 0;
        if (int err = drv.map_pages(domain, iova + done, paddr + done, pgsize, count, prot, mapped); err) {
            if (done)
                (void)iommu_unmap(log, drv, domain, iova, done);
            return err;
        }
        done += mapped;
    }
    return 0;
}
} // namespace

int iommu_map(kernel::KernelLog& log, IommuDriver& drv, Domain& domain, uint64_t iova, uint64_t paddr, uint64_t size,
              int prot)
{
    if (int err = iommu_map_runs(log, drv, domain, iova, paddr, size, prot); err)
        return err;
    drv.iotlb_sync_map(domain);
    return 0;
}

uint64_t iommu_unmap(kernel::KernelLog& log, IommuDriver& drv, Domain& domain, uint64_t iova, uint64_t size)
{
    log.print(kernel::LogLevel::debug, "iommu: unmap this: iova 0x{:x} size 0x{:x}", iova, size);
    uint64_t unmapped = 0;
    while (unmapped < size) {
        uint64_t count = 0;
        const uint64_t pgsize =
            iommu_pgsize(drv.pgsize_bitmap(), iova + unmapped, iova + unmapped, size - unmapped, count);
        const uint64_t n = drv.unmap_pages(domain, iova + unmapped, pgsize, count);
        if (!n)
            break;
        log.print(kernel::LogLevel::debug, "iommu: unmapped: iova 0x{:x} size 0x{:x}", iova + unmapped, n);
        unmapped += n;
    }
    return unmapped;
}

Expected<uint64_t, int> DmaApi::map_single(driver_core::Device& dev, uint64_t phys, uint64_t size, DmaDirection dir)
{
    if (!translated(dev))
        return phys; // dma-direct (identity domain, no IOMMU)
    Domain& domain = *core_.group_of(dev)->domain();
    Cookie& c = *cookie(dev, domain);
    const uint64_t granule = c.iovad->granule();
    const uint64_t offset = phys & (granule - 1);
    const uint64_t len = (size + offset + granule - 1) & ~(granule - 1);
    // iommu_dma_alloc_iova(): PCI devices that can address more try below 4 GiB first.
    const uint64_t limit = std::min(mask(dev), c.drv->geometry().aperture_end);
    std::optional<uint64_t> iova;
    if (limit > kDma32)
        iova = c.iovad->alloc(len, kDma32);
    if (!iova)
        iova = c.iovad->alloc(len, limit);
    if (!iova)
        return unexpected(-kernel::kENOMEM);
    if (int err = iommu_map(core_.log(), *c.drv, domain, *iova, phys - offset, len, dir_to_prot(dir)); err) {
        c.iovad->free(*iova, len);
        return unexpected(err);
    }
    return *iova + offset;
}

void DmaApi::unmap_single(driver_core::Device& dev, uint64_t dma, uint64_t size, DmaDirection)
{
    if (!translated(dev))
        return;
    Domain& domain = *core_.group_of(dev)->domain();
    Cookie& c = *cookie(dev, domain);
    const uint64_t granule = c.iovad->granule();
    const uint64_t offset = dma & (granule - 1);
    const uint64_t iova = dma - offset;
    const uint64_t len = (size + offset + granule - 1) & ~(granule - 1);
    (void)iommu_unmap(core_.log(), *c.drv, domain, iova, len);
    if (domain.type() != DomainType::kDmaFq) {
        ++iotlb_flushes_;
        c.drv->iotlb_sync(domain);
        c.iovad->free(iova, len);
        return;
    }
    // queue_iova(): freed only after the IOTLB is flushed. The ring's IOVA_FQ_SIZE slots hold one entry
    // fewer (fq_full() keeps a slot free): adding to a full ring flushes and frees it first.
    if (c.fq.size() >= kFqSize - 1)
        fq_flush(domain, c);
    if (c.fq.empty())
        c.fq_deadline = clock_.now() + kFqTimeoutNs;
    c.fq.push_back({iova, len});
}

void DmaApi::fq_flush(Domain& domain, Cookie& c)
{
    ++iotlb_flushes_;
    c.drv->flush_iotlb_all(domain);
    for (const auto& q : c.fq)
        c.iovad->free(q.iova, q.size);
    c.fq.clear();
}

void DmaApi::run_timers()
{
    for (auto& [domain, c] : cookies_)
        if (!c.fq.empty() && clock_.now() >= c.fq_deadline)
            fq_flush(*const_cast<Domain*>(domain), c);
}

void DmaApi::flush_queues()
{
    for (auto& [domain, c] : cookies_)
        if (!c.fq.empty())
            fq_flush(*const_cast<Domain*>(domain), c);
}

Expected<std::vector<uint64_t>, int> DmaApi::map_sg(driver_core::Device& dev, std::span<const SgSegment> sg,
                                                   DmaDirection dir)
{
    std::vector<uint64_t> out;
    if (!translated(dev)) {
        for (const SgSegment& s : sg)
            out.push_back(s.phys); // dma-direct
        return out;
    }
    Domain& domain = *core_.group_of(dev)->domain();
    Cookie& c = *cookie(dev, domain);
    const uint64_t granule = c.iovad->granule();
    // iommu_dma_map_sg(): each segment takes whole granules, so the list gets one IOVA range.
    const auto granules = [&](const SgSegment& s) { return ((s.phys & (granule - 1)) + s.len + granule - 1) & ~(granule - 1); };
    uint64_t total = 0;
    for (const SgSegment& s : sg)
        total += granules(s);
    const uint64_t limit = std::min(mask(dev), c.drv->geometry().aperture_end);
    std::optional<uint64_t> iova;
    if (limit > kDma32)
        iova = c.iovad->alloc(total, kDma32);
    if (!iova)
        iova = c.iovad->alloc(total, limit);
    if (!iova)
        return unexpected(-kernel::kENOMEM);
    // iommu_map_sg(): physically contiguous segments are mapped as one run; one iotlb_sync_map() at the end.
    uint64_t at = 0, run_iova = *iova, run_phys = 0, run_len = 0;
    const auto map_run = [&]() { return run_len ? iommu_map_runs(core_.log(), *c.drv, domain, run_iova, run_phys, run_len, dir_to_prot(dir)) : 0; };
    int err = 0;
    for (const SgSegment& s : sg) {
        const uint64_t phys = s.phys & ~(granule - 1);
        if (run_len && phys != run_phys + run_len) {
            if ((err = map_run()))
                break;
            run_iova += run_len;
            run_len = 0;
        }
        if (!run_len)
            run_phys = phys;
        run_len += granules(s);
        out.push_back(*iova + at + (s.phys & (granule - 1)));
        at += granules(s);
    }
    if (!err)
        err = map_run();
    if (err) {
        if (run_iova > *iova)
            (void)iommu_unmap(core_.log(), *c.drv, domain, *iova, run_iova - *iova);
        c.iovad->free(*iova, total);
        return unexpected(err);
    }
    c.drv->iotlb_sync_map(domain);
    return out;
}

void DmaApi::unmap_sg(driver_core::Device& dev, std::span<const uint64_t> dma, std::span<const SgSegment> sg,
                      DmaDirection dir)
{
    if (dma.empty() || !translated(dev))
        return;
    // iommu_dma_unmap_sg(): from the first segment's start to the last one's end, in one go.
    const uint64_t end = dma.back() + sg.back().len;
    unmap_single(dev, dma.front(), end - dma.front(), dir);
}

Expected<CoherentBuffer, int> DmaApi::alloc_coherent(driver_core::Device& dev, uint64_t size)
{
    const uint64_t len = (size + 0xfff) & ~uint64_t{0xfff};
    const auto cpu = ram_.alloc(len, 0x1000);
    if (!cpu)
        return unexpected(-kernel::kENOMEM);
    auto dma = map_single(dev, cpu->value(), len, DmaDirection::kBidirectional);
    if (!dma) {
        ram_.free(*cpu, len);
        return unexpected(dma.error());
    }
    return CoherentBuffer{*cpu, *dma, len};
}

void DmaApi::free_coherent(driver_core::Device& dev, const CoherentBuffer& buf)
{
    unmap_single(dev, buf.dma, buf.size, DmaDirection::kBidirectional);
    ram_.free(buf.cpu, buf.size);
}

} // namespace viommu::guest::iommu
