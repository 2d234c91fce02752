// Writes a packed ring by hand (virtio v1.2 §2.8), descriptor by descriptor, as a driver would: how tests
// build the rings, well-formed or not, that the device must take or refuse. It keeps the driver's next
// position and Driver Ring Wrap Counter (§2.8.1) for add(); desc() writes any position with any flags.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "base/addr.h"
#include "virtio/guest_memory.h"
#include "virtio/wire/packed_ring.h"

namespace viommu::test {

// One element of a buffer, as the driver describes it.
struct PackedElem {
    uint64_t addr;
    uint32_t len;
    bool writable = false;
};

class PackedRingWriter {
public:
    PackedRingWriter(virtio::GuestMemory& mem, GuestAddr desc, GuestAddr driver, GuestAddr device, uint32_t size)
        : mem_(mem), desc_(desc), driver_(driver), device_(device), size_(size)
    {
    }

    // The AVAIL/USED bits that make a descriptor available on a pass with wrap counter `wrap` (§2.8.1).
    static uint16_t avail_bits(bool wrap) { return wrap ? virtio::wire::kPackedDescFAvail : virtio::wire::kPackedDescFUsed; }

    // A descriptor at ring position pos with exactly these flags.
    void desc(uint32_t pos, uint64_t addr, uint32_t len, uint16_t flags, uint16_t id = 0)
    {
        desc_at(desc_, pos, addr, len, flags, id);
    }
    // A descriptor in a table anywhere in guest memory (an indirect table).
    void desc_at(GuestAddr table, uint32_t index, uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t id = 0)
    {
        const virtio::wire::PackedDesc d{addr, len, id, flags};
        (void)mem_.write_obj(GuestAddr(table.value() + 16ull * index), d);
    }
    virtio::wire::PackedDesc read(uint32_t pos) const
    {
        return *mem_.read_obj<virtio::wire::PackedDesc>(GuestAddr(desc_.value() + 16ull * pos));
    }

    // Makes a buffer of these elements available at the driver's next position, the list linked by NEXT,
    // its Buffer ID in the last descriptor (§2.8.6); extra flags go on every descriptor. Returns the
    // position of its first descriptor.
    uint32_t add(std::initializer_list<PackedElem> elems, uint16_t id, uint16_t extra_flags = 0)
    {
        const uint32_t first = next_;
        std::size_t i = 0;
        for (const PackedElem& e : elems) {
            uint16_t flags = static_cast<uint16_t>(avail_bits(wrap_) | extra_flags);
            if (e.writable)
                flags |= virtio::wire::kDescFWrite;
            if (++i < elems.size())
                flags |= virtio::wire::kDescFNext;
            desc(next_, e.addr, e.len, flags, id);
            if (++next_ == size_) {
                next_ = 0;
                wrap_ = !wrap_;
            }
        }
        return first;
    }
    uint32_t next() const { return next_; }
    bool wrap() const { return wrap_; }

    // The driver event suppression area (what the device reads) and the device's (what it writes).
    void set_driver_event(uint16_t flags, uint16_t off_wrap = 0)
    {
        (void)mem_.write_obj(driver_, virtio::wire::EventSuppress{off_wrap, flags});
    }
    virtio::wire::EventSuppress device_event() const { return *mem_.read_obj<virtio::wire::EventSuppress>(device_); }

private:
    virtio::GuestMemory& mem_;
    GuestAddr desc_;
    GuestAddr driver_;
    GuestAddr device_;
    uint32_t size_;
    uint32_t next_ = 0;
    bool wrap_ = true; // §2.8.1: "initialized to 1"
};

} // namespace viommu::test
