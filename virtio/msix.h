// MSI-X (PCI 3.0 §6.8.2): a table of vectors (message address, data, per-vector mask) and the pending
// bit array, in a BAR of their own as QEMU's msix_init_exclusive_bar() lays them out: the table at 0,
// the PBA at half of a 4 KiB BAR (or right after a table too big for that half), the BAR a power of
// two. The capability's enable and function-mask bits live in configuration space; the function tells
// this table when they change.
//
// A vector that fires while masked (by its own mask bit or the function's) sets its pending bit and is
// sent when it is unmasked (§6.8.2.9, QEMU's msix_handle_mask_update()). A message is a DWORD write of
// the entry's data to its address, into the board's MsiSink. While the function may not master the bus
// nothing is sent, since QEMU sends messages through the bus-master address space (msi_send_message()):
// a message that fires then is lost, one already pending waits for bus mastering to come back.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/bus.h"

namespace viommu::virtio {

class MsixTable {
public:
    // 1 to 2048 vectors.
    MsixTable(unsigned vectors, MsiSink& sink);

    unsigned vectors() const { return static_cast<unsigned>(entries_.size()); }
    uint32_t table_offset() const { return 0; }
    uint32_t pba_offset() const { return pba_offset_; }
    uint64_t bar_size() const { return bar_size_; }

    // An aligned DWORD of the table or the PBA; nullopt when `offset` is neither (or not aligned).
    std::optional<uint32_t> read32(uint32_t offset) const;
    // False (nothing changes) for a write outside the table: the PBA is read-only.
    bool write32(uint32_t offset, uint32_t value);

    // The Message Control bits the driver set in the capability.
    void set_control(bool enabled, bool function_masked);
    bool enabled() const { return enabled_; }
    bool function_masked() const { return function_masked_; }
    // The function may (or may no longer) master the bus.
    void set_bus_master(bool enabled);

    // Fires a vector; a vector this table does not have is ignored (QEMU's msix_notify()).
    void notify(uint16_t vector);
    bool pending(uint16_t vector) const { return vector < entries_.size() && entries_[vector].pending; }

    // Power-on state: every vector masked, nothing pending, MSI-X disabled (§6.8.2.9).
    void reset();

private:
    struct Entry {
        uint64_t address = 0;
        uint32_t data = 0;
        uint32_t control = 1; // vector mask set
        bool pending = false;
    };
    bool masked(const Entry& e) const { return function_masked_ || (e.control & 1); }
    void send(Entry& e);
    void deliver_unmasked_pending();

    MsiSink& sink_;
    std::vector<Entry> entries_;
    uint32_t pba_offset_ = 0;
    uint64_t bar_size_ = 0;
    bool enabled_ = false;
    bool function_masked_ = false;
    bool bus_master_ = false;
};

} // namespace viommu::virtio
