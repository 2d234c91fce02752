// Equal-sized slots for the nodes of large mapping stores, carved from 2 MiB chunks that the kernel is
// asked to back with transparent huge pages (madvise(MADV_HUGEPAGE)).
//
// Why: a million mappings take about 45 MiB of nodes. Allocated one by one they lie scattered over as
// many 4 KiB pages, so a random lookup misses the TLB at each level it descends, on top of the data
// cache misses; on 2 MiB pages the whole tree is a few dozen TLB entries (docs/PERFORMANCE.md,
// "Translation"). Where the kernel gives no huge pages the pool still works, on small pages.
//
// One pool serves every store of the process, as malloc's heap did: a slot a store gives back is taken
// by any other, so what the pool holds is bounded by the most nodes ever in use at once, which the
// device's mapping limits bound. A pool per store would not be: a guest could grow a domain, shrink it
// to a few mappings that pin its chunks, and do the same in the next domain. The chunks go back to the
// system when no slot is in use.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

namespace viommu::hw::virtio_iommu {

class NodePool {
public:
    static constexpr std::size_t kChunkBytes = std::size_t{2} << 20;
    static constexpr std::size_t kAlign = 64; // a cache line: a node spans as few lines as it can

    // slot_bytes: a multiple of kAlign, well under kChunkBytes.
    explicit NodePool(std::size_t slot_bytes);
    ~NodePool();
    NodePool(const NodePool&) = delete;
    NodePool& operator=(const NodePool&) = delete;

    // A free slot, kAlign-aligned. Throws std::bad_alloc, with the pool unchanged, when it needs a new
    // chunk and cannot have one. Thread-safe, as give() and bytes() are: guests of a batch run on
    // several threads.
    [[nodiscard]] void* take();
    // Returns a slot taken from this pool.
    void give(void* slot);

    // Bytes held: every chunk, used or not (they are touched, so resident).
    std::size_t bytes() const;

private:
    struct FreeSlot {
        FreeSlot* next;
    };
    void release_chunks();

    const std::size_t slot_bytes_;
    mutable std::mutex mutex_;
    FreeSlot* free_ = nullptr;
    // The part of the newest chunk never handed out.
    char* fresh_ = nullptr;
    char* fresh_end_ = nullptr;
    std::size_t in_use_ = 0;
    std::vector<void*> chunks_;
};

} // namespace viommu::hw::virtio_iommu
