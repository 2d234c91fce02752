// Writes a split ring by hand, descriptor by descriptor: how tests build the malformed rings a correct
// driver (guest::virtio_drivers::DriverQueue) would never produce.
#pragma once

#include <cstdint>

#include "base/addr.h"
#include "virtio/guest_memory.h"
#include "virtio/wire/ring.h"

namespace viommu::test {

class RingWriter {
public:
    RingWriter(virtio::GuestMemory& mem, GuestAddr desc, GuestAddr avail, uint32_t size)
        : mem_(mem), desc_(desc), avail_(avail), size_(size)
    {
    }

    void desc(uint32_t index, uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t next = 0)
    {
        desc_at(desc_, index, addr, len, flags, next);
    }
    // A descriptor inside a table anywhere in guest memory (an indirect table).
    void desc_at(GuestAddr table, uint32_t index, uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t next = 0)
    {
        const virtio::wire::Desc d{addr, len, flags, next};
        (void)mem_.write_obj(GuestAddr(table.value() + 16ull * index), d);
    }
    // Makes `head` available and moves avail.idx on by one.
    void publish(uint16_t head)
    {
        const uint16_t idx = avail_idx();
        (void)mem_.write_obj(GuestAddr(avail_.value() + virtio::wire::avail_ring_entry_offset(idx % size_)),
                             virtio::le16(head));
        set_avail_idx(static_cast<uint16_t>(idx + 1));
    }
    uint16_t avail_idx() { return mem_.read_obj<virtio::le16>(GuestAddr(avail_.value() + 2))->get(); }
    void set_avail_idx(uint16_t idx) { (void)mem_.write_obj(GuestAddr(avail_.value() + 2), virtio::le16(idx)); }

private:
    virtio::GuestMemory& mem_;
    GuestAddr desc_;
    GuestAddr avail_;
    uint32_t size_;
};

} // namespace viommu::test
