#include "tests/fuzz/ring_oracle.h"

#include <fmt/format.h>
// vring_init() in the legacy part of the header is C that C++ rejects.
#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>

namespace viommu::fuzz {

namespace {

struct RawDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

bool read_desc(const virtio::GuestMemory& mem, uint64_t table, uint32_t index, RawDesc& out)
{
    vring_desc d{};
    const uint64_t at = table + 16ull * index; // cannot wrap: the table was checked to be RAM
    if (!ram_offset(at, sizeof d) || !mem.read(GuestAddr(at), std::span(reinterpret_cast<uint8_t*>(&d), sizeof d)))
        return false;
    out = {d.addr, d.len, d.flags, d.next};
    return true;
}

WalkedChain refuse(std::string why)
{
    WalkedChain c;
    c.why_not = std::move(why);
    return c;
}

} // namespace

WalkedChain walk_chain(const virtio::GuestMemory& mem, const RingLayout& ring, uint16_t head)
{
    if (head >= ring.size)
        return refuse(fmt::format("head {} is not below the queue size {}", head, ring.size));
    WalkedChain c;
    uint64_t table = ring.desc;
    uint32_t table_size = ring.size;
    bool in_indirect = false;
    uint32_t index = head;
    uint32_t visited = 0; // in the current table
    bool writable_seen = false;
    for (;;) {
        // A chain cannot hold more descriptors than its table has without a loop (§2.7.5.2: "loops are
        // forbidden"; §2.7.5.3.1: an indirect chain is not longer than the table).
        if (++visited > table_size)
            return refuse("more descriptors than the table holds: a loop");
        RawDesc d;
        if (!read_desc(mem, table, index, d))
            return refuse("descriptor outside RAM");
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (!ring.indirect)
                return refuse("INDIRECT without VIRTIO_F_INDIRECT_DESC");
            if (in_indirect)
                return refuse("INDIRECT inside an indirect table");
            if (d.flags & VRING_DESC_F_NEXT)
                return refuse("INDIRECT with NEXT");
            if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > 32768)
                return refuse(fmt::format("indirect table of {} bytes", d.len));
            if (!ram_offset(d.addr, d.len))
                return refuse("indirect table outside RAM");
            // The chain goes on in the table, from its first entry.
            table = d.addr;
            table_size = d.len / 16;
            in_indirect = true;
            index = 0;
            visited = 0;
            continue;
        }
        const bool writable = d.flags & VRING_DESC_F_WRITE;
        if (!writable && writable_seen)
            return refuse("a device-readable buffer after a device-writable one");
        writable_seen = writable;
        if (d.len == 0)
            return refuse("zero-length buffer");
        if (c.readable + c.writable + d.len > (uint64_t{1} << 32))
            return refuse("more than 2^32 bytes in the chain");
        if (!ram_offset(d.addr, d.len))
            return refuse("buffer outside RAM");
        if (writable) {
            c.writable += d.len;
            c.writable_buffers.push_back({d.addr, d.len});
        } else {
            c.readable += d.len;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            c.usable = true;
            return c;
        }
        if (d.next >= table_size)
            return refuse(fmt::format("next {} is not below the table size {}", d.next, table_size));
        index = d.next;
    }
}

} // namespace viommu::fuzz
