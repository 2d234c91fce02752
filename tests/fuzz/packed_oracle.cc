#include "tests/fuzz/packed_oracle.h"

#include "virtio/wire/packed_ring.h"

namespace viommu::fuzz {

namespace {

namespace wire = viommu::virtio::wire;

wire::PackedDesc read_desc(const virtio::GuestMemory& mem, uint64_t addr)
{
    return mem.read_obj<wire::PackedDesc>(GuestAddr(addr)).value_or(wire::PackedDesc{});
}

// §2.8.1: available on the pass with wrap counter `wrap` when AVAIL equals it and USED does not.
bool available(uint16_t flags, bool wrap)
{
    const bool avail = flags & wire::kPackedDescFAvail;
    const bool used = flags & wire::kPackedDescFUsed;
    return avail == wrap && used != wrap;
}

PackedWalk refused(std::string why)
{
    PackedWalk w;
    w.verdict = PackedWalk::Verdict::kRefused;
    w.why_not = std::move(why);
    return w;
}

// One buffer of the list; false (and `why`) when the device may not take it.
bool add_buffer(const virtio::GuestMemory& mem, PackedWalk& w, const wire::PackedDesc& d, bool& seen_writable,
                std::string& why)
{
    const bool writable = d.flags.get() & wire::kDescFWrite;
    const uint64_t addr = d.addr.get();
    const uint32_t len = d.len.get();
    if (!writable && seen_writable)
        why = "a device-readable buffer after a device-writable one (2.8.17)";
    else if (len == 0)
        why = "a zero-length buffer";
    else if (addr + len < addr || !mem.contains(GuestAddr(addr), len))
        why = "a buffer outside RAM";
    if (!why.empty())
        return false;
    seen_writable = writable;
    if (writable) {
        w.writable += len;
        w.writable_buffers.push_back({addr, len});
    } else {
        w.readable += len;
    }
    return true;
}

} // namespace

PackedWalk walk_packed_list(const virtio::GuestMemory& mem, const PackedRing& ring, uint32_t pos, bool wrap)
{
    PackedWalk w;
    if (!available(read_desc(mem, ring.desc + 16ull * pos).flags.get(), wrap))
        return w; // nothing there
    bool seen_writable = false;
    std::string why;
    for (uint32_t n = 0;; ++n) {
        if (n == ring.size)
            return refused("a list longer than the queue size (2.8.17)");
        const wire::PackedDesc d = read_desc(mem, ring.desc + 16ull * pos);
        const uint16_t flags = d.flags.get();
        if (n > 0 && !available(flags, wrap))
            return refused("a descriptor of the list that is not available (2.8.17)");
        if (flags & wire::kDescFIndirect) {
            if (!ring.indirect)
                return refused("INDIRECT without VIRTIO_F_INDIRECT_DESC (2.8.19)");
            if (flags & wire::kDescFNext)
                return refused("INDIRECT with NEXT (2.8.19)");
            if (n > 0)
                return refused("INDIRECT in a list linked by NEXT (2.8.19)");
            const uint64_t table = d.addr.get();
            const uint32_t len = d.len.get();
            if (len == 0 || len % 16 != 0 || len / 16 > 32768)
                return refused("an indirect table of a length the device does not take (2.8.7)");
            if (!mem.contains(GuestAddr(table), len))
                return refused("an indirect table outside RAM");
            // §2.8.7: only WRITE counts in the table's entries; the length says how many there are.
            for (uint32_t i = 0; i < len / 16; ++i)
                if (!add_buffer(mem, w, read_desc(mem, table + 16ull * i), seen_writable, why))
                    return refused(why);
            w.id = d.id.get();
            w.slots = 1;
            break;
        }
        if (!add_buffer(mem, w, d, seen_writable, why))
            return refused(why);
        if (!(flags & wire::kDescFNext)) {
            w.id = d.id.get(); // §2.8.6: the last descriptor's
            w.slots = n + 1;
            break;
        }
        if (++pos == ring.size) {
            pos = 0;
            wrap = !wrap;
        }
    }
    if (w.readable + w.writable > (uint64_t{1} << 32))
        return refused("more than 2^32 bytes");
    w.verdict = PackedWalk::Verdict::kUsable;
    return w;
}

} // namespace viommu::fuzz
