// `--workload`: an I/O pattern run through every endpoint it applies to, once the guest is up. Each I/O
// is the DMA API calls the endpoint's Linux driver makes (system/workload/pattern.h) through the guest
// model's dma-iommu and virtio-iommu driver, the device's DMA into the mapped buffers, and the unmaps;
// the events are what the driver, dma-iommu and the device counted while it ran, never a formula.
//
// The I/Os run back to back on one CPU and the virtual clock stands still: a DMA-FQ domain's queue is
// flushed when it fills (256 IOVAs), never by its 10 ms timer (IOVA_FQ_TIMEOUT), as at a high I/O rate.
// Not modelled: the flush queue per CPU (one queue here), the endpoint's own virtqueue kicks (the
// model's endpoints are DMA engines, not virtio-blk or virtio-net devices) and virtio-net's premapped
// receive buffers (its "merge dma operations when filling mergeable buffers" series).
#include <algorithm>

#include <fmt/format.h>

#include "guest-model/kernel/errno.h"
#include "system/boot/boot.h"
#include "system/boot/virtio_roles.h"

namespace viommu::system::boot {

namespace {

namespace iommu = guest::iommu;
using workload::Family;
using workload::Mode;

std::optional<Family> family_of(const FunctionDesc& d)
{
    if (d.role == Role::kVirtioBlk)
        return Family::kVirtioBlk;
    if (d.role == Role::kVirtioNet)
        return Family::kVirtioNet;
    if (d.role != Role::kEmulated && d.role != Role::kHostdev)
        return std::nullopt;
    if (d.guest_driver == "ahci")
        return Family::kAhci;
    if (d.guest_driver == "e1000e" || d.guest_driver == "e1000")
        return Family::kIntelNic;
    return std::nullopt;
}

// One mapped buffer of an I/O: its memory, and the DMA address of each segment.
struct Mapped {
    const workload::Buffer* buffer;
    std::vector<GuestAddr> memory; // one allocation per segment, twice its size: the next starts a gap away
    std::vector<iommu::SgSegment> sg;
    std::vector<uint64_t> dma;
};

} // namespace

workload::Events Boot::workload_events() const
{
    workload::Events e;
    if (viommu_) {
        const auto t = viommu_->traffic();
        e.map_requests = t.map;
        e.unmap_requests = t.unmap;
        e.kicks = t.kicks;
        e.syncs = t.syncs;
    }
    e.iotlb_flushes = dma_.iotlb_flushes();
    if (board_.iommu())
        e.device_requests = board_.iommu()->stats().requests;
    return e;
}

std::string Boot::run_workload_io(Function& f, const workload::Recipe& recipe, unsigned io, workload::Events& counted)
{
    std::vector<Mapped> mapped;
    std::string error;
    // Submission: every buffer of the I/O mapped.
    for (const workload::Buffer& b : recipe.buffers) {
        Mapped m{&b, {}, {}, {}};
        for (unsigned s = 0; s < b.segments; ++s) {
            const auto mem = machine_.allocator().alloc(2 * b.bytes, b.align);
            if (!mem) {
                error = "guest RAM exhausted";
                break;
            }
            m.memory.push_back(*mem);
            m.sg.push_back({mem->value(), b.bytes});
        }
        if (error.empty() && b.map_sg) {
            auto dma = dma_.map_sg(*f.dev, m.sg, b.dir);
            ++counted.dma_maps;
            if (dma)
                m.dma = std::move(*dma);
            else
                error = fmt::format("dma_map_sg failed ({})", guest::kernel::errno_symbol(dma.error()));
        } else if (error.empty()) {
            for (const iommu::SgSegment& s : m.sg) {
                auto dma = dma_.map_single(*f.dev, s.phys, s.len, b.dir);
                ++counted.dma_maps;
                if (!dma) {
                    error = fmt::format("dma_map_page failed ({})", guest::kernel::errno_symbol(dma.error()));
                    break;
                }
                m.dma.push_back(*dma);
            }
        }
        mapped.push_back(std::move(m));
        if (!error.empty())
            break;
    }
    // The device: it reads what goes to it and writes what comes from it.
    for (const Mapped& m : mapped) {
        for (std::size_t s = 0; error.empty() && s < m.dma.size(); ++s) {
            if (m.buffer->dir == iommu::DmaDirection::kToDevice) {
                if (const auto fault = board_.device_read(f, m.dma[s], m.sg[s].len))
                    error = fmt::format("the device's read faulted at {:#x}", *fault);
            } else {
                DmaOutcome outcome;
                const auto seed = static_cast<uint32_t>(f.pci->requester_id() + io);
                error = board_.device_dma(f, m.dma[s], m.sg[s].phys, m.sg[s].len, seed, outcome);
            }
        }
    }
    // Completion: every buffer unmapped, as it was mapped.
    for (const Mapped& m : mapped) {
        if (m.buffer->map_sg && m.dma.size() == m.sg.size()) {
            dma_.unmap_sg(*f.dev, m.dma, m.sg, m.buffer->dir);
            ++counted.dma_unmaps;
        } else if (!m.buffer->map_sg) {
            for (std::size_t s = 0; s < m.dma.size(); ++s) {
                dma_.unmap_single(*f.dev, m.dma[s], m.sg[s].len, m.buffer->dir);
                ++counted.dma_unmaps;
            }
        }
        for (GuestAddr mem : m.memory)
            machine_.allocator().free(mem, 2 * m.buffer->bytes);
    }
    return error;
}

workload::Report Boot::run_workload(const workload::Request& request)
{
    const workload::Pattern& pattern = *request.pattern;
    workload::Report report{std::string(pattern.name), request.costs, request.costs_from_file, {}, {}};
    for (Function& f : board_.functions()) {
        const std::optional<Family> family = family_of(*f.desc);
        const workload::Recipe* recipe = family ? workload::recipe_for(pattern, *family) : nullptr;
        if (!recipe)
            continue;
        const std::string bdf = f.pci->bdf();
        const bool virtio = virtio_role(f.desc->role) != nullptr;
        if (!f.engine) {
            report.skipped.emplace_back(bdf, "the model does no DMA for it");
            continue;
        }
        if (!f.dev->bound() || (virtio && !(f.virtio && f.virtio->bound()))) {
            report.skipped.emplace_back(bdf, "no driver bound");
            continue;
        }
        if (f.dev->driver()->name() != f.desc->guest_driver && !virtio) {
            // vfio-pci, or pci-stub: its DMA is the user's, not the kernel driver's.
            report.skipped.emplace_back(bdf, fmt::format("bound to {}, not {}", f.dev->driver()->name(), f.desc->guest_driver));
            continue;
        }
        workload::EndpointResult r;
        r.bdf = bdf;
        r.label = f.desc->source.empty() ? f.desc->pci.label : f.desc->source;
        r.driver = virtio ? f.virtio->driver()->name() : f.dev->driver()->name();
        const iommu::Group* group = iommu_.group_of(*f.dev);
        const iommu::Domain* domain = group ? group->domain() : nullptr;
        if (domain)
            r.domain = iommu::domain_type_name(domain->type());
        if (virtio && !f.desc->iommu_platform)
            r.mode = Mode::kNoDmaApi;
        else if (!domain)
            r.mode = Mode::kNoIommu;
        else if (domain->type() == iommu::DomainType::kDma)
            r.mode = Mode::kStrict;
        else if (domain->type() == iommu::DomainType::kDmaFq)
            r.mode = Mode::kLazy;
        else
            r.mode = Mode::kPassthrough;
        // Whatever an earlier endpoint left queued is flushed first, as its timer would have.
        dma_.flush_queues();
        workload::Events counted;
        const workload::Events before = workload_events();
        if (r.mode != Mode::kNoDmaApi) {
            for (; r.ios < request.ios; ++r.ios) {
                r.error = run_workload_io(f, *recipe, r.ios, counted);
                if (!r.error.empty())
                    break;
            }
        } else {
            // virtio_ring hands the device guest-physical addresses: no DMA API call, no request.
            r.ios = request.ios;
        }
        // The IOVAs still queued are flushed, as the flush queue's timer would.
        dma_.flush_queues();
        r.events = workload_events() - before;
        r.events.dma_maps = counted.dma_maps;
        r.events.dma_unmaps = counted.dma_unmaps;
        report.endpoints.push_back(std::move(r));
    }
    const auto by_bdf = [](const auto& a, const auto& b) { return a.bdf < b.bdf; };
    std::sort(report.endpoints.begin(), report.endpoints.end(), by_bdf);
    std::sort(report.skipped.begin(), report.skipped.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return report;
}

} // namespace viommu::system::boot
