// fuzz-virtqueue: the input lays out a virtio-iommu's request queue in guest memory (size, areas,
// features) and then plays a driver that writes descriptors, indirect tables and bytes anywhere,
// publishes heads, sets the available index to anything and notifies (tests/fuzz/ring_scenario.h). The
// device pops and handles whatever is there. After every notification:
//   - the device used the queue only as the driver set it up: QueueReady stuck exactly when the layout
//     is aligned and each area lies in one RAM region;
//   - a single new chain that the spec's rules accept (ring_oracle.h) is used: one used element with
//     its head and a length no larger than its writable part, and the device wrote nothing but that
//     writable part and the used ring (§2.7.5.1 "MUST NOT write to a device-readable buffer");
//   - a chain those rules refuse makes the device enter NEEDS_RESET without writing anything;
//   - in general a live device uses everything available, an index more than a ring ahead makes it give
//     up untouched, and its used index in memory is the one it keeps.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "hw/virtio-iommu/device.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/fuzz_ram.h"
#include "tests/fuzz/ring_oracle.h"
#include "tests/fuzz/ring_scenario.h"
#include "virtio/mmio_transport.h"
#include "virtio/wire/mmio_regs.h"
#include "virtio/wire/ring.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace mmio = viommu::virtio::mmio;

namespace {

// Whether SplitQueue::create() must accept the layout: every area aligned (§2.7) and inside one region.
bool layout_valid(const RingLayout& l)
{
    auto in_one_region = [](uint64_t addr, uint64_t len) {
        const uint64_t bases[] = {RamLayout::kA, RamLayout::kB, RamLayout::kC};
        const uint64_t sizes[] = {RamLayout::kASize, RamLayout::kBSize, RamLayout::kCSize};
        for (int i = 0; i < 3; ++i)
            if (addr >= bases[i] && addr - bases[i] <= sizes[i] && len <= sizes[i] - (addr - bases[i]))
                return true;
        return false;
    };
    return l.desc % 16 == 0 && l.avail % 2 == 0 && l.used % 4 == 0 &&
           in_one_region(l.desc, virtio::wire::desc_table_bytes(l.size)) &&
           in_one_region(l.avail, virtio::wire::avail_ring_bytes(l.size)) &&
           in_one_region(l.used, virtio::wire::used_ring_bytes(l.size));
}

class Harness {
public:
    Harness() : mem_(ram_.memory()), device_(mem_, hw::virtio_iommu::IommuConfig{}), transport_(device_, io_.get_executor(), irq_) {}

    void set_up(const RingLayout& l)
    {
        layout_ = l;
        write(mmio::kStatus, 0);
        if (device_.status() != 0 || device_.interrupt_status() != 0 || device_.queue_slot(0)->ready)
            finding("after a reset the status, interrupt status or QueueReady is not 0 (§4.2.2.1)");
        used_ = 0;
        write(mmio::kStatus, virtio::status::kAcknowledge | virtio::status::kDriver);
        uint64_t features = 0;
        for (uint32_t sel = 0; sel < 2; ++sel) {
            write(mmio::kDeviceFeaturesSel, sel);
            features |= uint64_t{read(mmio::kDeviceFeatures)} << (32 * sel);
        }
        if (!l.event_idx)
            features &= ~virtio::feature(virtio::kFEventIdx);
        if (!l.indirect)
            features &= ~virtio::feature(virtio::kFIndirectDesc);
        for (uint32_t sel = 0; sel < 2; ++sel) {
            write(mmio::kDriverFeaturesSel, sel);
            write(mmio::kDriverFeatures, static_cast<uint32_t>(features >> (32 * sel)));
        }
        write(mmio::kStatus, virtio::status::kAcknowledge | virtio::status::kDriver | virtio::status::kFeaturesOk);
        // A driver starts its rings at index 0 (the device does too).
        put16(l.avail + offsetof(virtio::wire::AvailHeader, idx), 0);
        put16(l.used + offsetof(virtio::wire::UsedHeader, idx), 0);
        write(mmio::kQueueSel, 0);
        write(mmio::kQueueNum, l.size);
        write(mmio::kQueueDescLow, static_cast<uint32_t>(l.desc));
        write(mmio::kQueueDescHigh, static_cast<uint32_t>(l.desc >> 32));
        write(mmio::kQueueDriverLow, static_cast<uint32_t>(l.avail));
        write(mmio::kQueueDriverHigh, static_cast<uint32_t>(l.avail >> 32));
        write(mmio::kQueueDeviceLow, static_cast<uint32_t>(l.used));
        write(mmio::kQueueDeviceHigh, static_cast<uint32_t>(l.used >> 32));
        write(mmio::kQueueReady, 1);
        if ((read(mmio::kQueueReady) == 1) != layout_valid(l))
            finding(fmt::format("QueueReady is {} for the layout desc {:#x} avail {:#x} used {:#x} size {}",
                                read(mmio::kQueueReady), l.desc, l.avail, l.used, l.size));
        write(mmio::kStatus, read(mmio::kStatus) | virtio::status::kDriverOk);
    }

    void apply(const RingOp& op)
    {
        if (const auto* d = std::get_if<WriteDesc>(&op)) {
            // In the ring's table the index wraps at its size, as a driver's would.
            const uint64_t at = d->table ? d->table + 16ull * d->index : layout_.desc + 16ull * (d->index % layout_.size);
            const virtio::wire::Desc desc{d->addr, d->len, d->flags, d->next};
            (void)ram_.write_obj(GuestAddr(at), desc);
        } else if (const auto* b = std::get_if<WriteBytes>(&op)) {
            (void)ram_.write(GuestAddr(b->addr), b->bytes);
        } else if (const auto* p = std::get_if<Publish>(&op)) {
            const uint16_t idx = get16(layout_.avail + offsetof(virtio::wire::AvailHeader, idx));
            put16(layout_.avail + virtio::wire::avail_ring_entry_offset(idx % layout_.size), p->head);
            put16(layout_.avail + offsetof(virtio::wire::AvailHeader, idx), static_cast<uint16_t>(idx + 1));
            notify_and_check();
        } else if (const auto* a = std::get_if<SetAvailIdx>(&op)) {
            put16(layout_.avail + offsetof(virtio::wire::AvailHeader, idx), a->idx);
            notify_and_check();
        } else if (std::holds_alternative<Notify>(op)) {
            notify_and_check();
        } else {
            set_up(std::get<Relayout>(op).layout);
        }
    }

private:
    uint32_t read(uint32_t offset) { return static_cast<uint32_t>(transport_.read(offset, 4)); }
    void write(uint32_t offset, uint32_t value) { transport_.write(offset, 4, value); }
    uint16_t get16(uint64_t addr) const { return mem_.read_obj<virtio::le16>(GuestAddr(addr)).value_or(virtio::le16{}).get(); }
    void put16(uint64_t addr, uint16_t v) { (void)ram_.write_obj(GuestAddr(addr), virtio::le16(v)); }

    // The first byte the device changed outside the allowed ranges and the used ring, if any.
    std::optional<uint64_t> stray_write(std::span<const GuestRange> writes, std::vector<GuestRange> allowed = {}) const
    {
        allowed.push_back({layout_.used, virtio::wire::used_ring_bytes(layout_.size)});
        return outside(writes, allowed);
    }

    void notify_and_check()
    {
        const bool was_broken = device_.status() & virtio::status::kNeedsReset;
        const uint16_t avail_idx = get16(layout_.avail + offsetof(virtio::wire::AvailHeader, idx));
        const uint16_t pending = static_cast<uint16_t>(avail_idx - used_);
        // One new chain: the precise check, with the chain walked by the spec's rules beforehand.
        std::optional<WalkedChain> walked;
        uint16_t head = 0;
        if (!was_broken && pending == 1 && device_.queue_slot(0)->ready) {
            head = get16(layout_.avail + virtio::wire::avail_ring_entry_offset(used_ % layout_.size));
            walked = walk_chain(mem_, layout_, head);
        }
        write(mmio::kQueueNotify, 0);
        io_.poll();
        io_.restart();
        const auto& writes = ram_.take_device_writes();

        const bool broken = device_.status() & virtio::status::kNeedsReset;
        const virtio::Virtqueue* ring = device_.queue_slot(0)->ring ? &*device_.queue_slot(0)->ring : nullptr;
        const uint16_t used_now = ring ? ring->indices().used_idx : used_;
        const uint16_t consumed = static_cast<uint16_t>(used_now - used_);
        if (ring && consumed && get16(layout_.used + offsetof(virtio::wire::UsedHeader, idx)) != used_now)
            finding("the used index in guest memory is not the one the device keeps");
        for (uint16_t i = used_; i != used_now; ++i) {
            virtio::wire::UsedElem elem{};
            (void)mem_.read(GuestAddr(layout_.used + virtio::wire::used_ring_entry_offset(i % layout_.size)),
                            std::span(reinterpret_cast<uint8_t*>(&elem), sizeof elem));
            if (elem.id.get() >= layout_.size)
                finding(fmt::format("used element {} names descriptor {} of a {}-entry queue", i, elem.id.get(), layout_.size));
        }
        if (was_broken || !ring) {
            if (consumed || stray_write(writes, {}))
                finding("a device that gave up (or has no ring) used the queue");
        } else if (walked && walked->usable) {
            if (consumed == 0)
                finding(fmt::format("a valid chain (head {}, {} readable, {} writable bytes) was not used: {}", head,
                                    walked->readable, walked->writable, device_.failure_reason()));
            virtio::wire::UsedElem elem{};
            (void)mem_.read(GuestAddr(layout_.used + virtio::wire::used_ring_entry_offset(used_ % layout_.size)),
                            std::span(reinterpret_cast<uint8_t*>(&elem), sizeof elem));
            if (elem.id.get() != head || elem.len.get() > walked->writable)
                finding(fmt::format("used element {{id {}, len {}}} for head {} with {} writable bytes", elem.id.get(),
                                    elem.len.get(), head, walked->writable));
            // More chains are used only when the answer landed in the available ring and moved its index:
            // then their buffers were written too.
            if (consumed == 1)
                if (const auto at = stray_write(writes, walked->writable_buffers))
                    finding(fmt::format("the device wrote at {:#x}, outside the chain's writable buffers and the used ring", *at));
        } else if (walked) {
            if (!broken || consumed || stray_write(writes, {}))
                finding(fmt::format("a chain the spec refuses ({}) was used or did not stop the device", walked->why_not));
        } else if (pending > layout_.size) {
            if (!broken || consumed || stray_write(writes, {}))
                finding(fmt::format("an available index {} ahead of the device was not refused", pending));
        }
        // A live device stops only when it has used everything available. (Its own writes may have moved
        // avail.idx meanwhile, when a writable buffer overlaps the available ring: what counts is the
        // index it finds at the end.)
        if (ring && !broken && get16(layout_.avail + offsetof(virtio::wire::AvailHeader, idx)) != used_now)
            finding(fmt::format("{} chains were available, {} used, and the device stopped short", pending, consumed));
        used_ = used_now;
    }

    boost::asio::io_context io_;
    WatchedRam ram_;
    virtio::GuestMemory& mem_;
    hw::virtio_iommu::VirtioIommu device_;
    IrqWire irq_;
    virtio::MmioTransport transport_;
    RingLayout layout_;
    uint16_t used_ = 0; // used elements the harness has checked
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const RingScenario s = decode_ring_scenario({data, size});
    Harness h;
    h.set_up(s.layout);
    for (const RingOp& op : s.ops)
        h.apply(op);
    return 0;
}
