#include "hw/virtio-iommu/node_pool.h"

#include <cassert>
#include <new>
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

namespace viommu::hw::virtio_iommu {

// Under AddressSanitizer, every byte of a chunk that is not a slot in use is poisoned, so that a node
// used after it was freed, or read past its end, is reported as it would be with operator new. (The
// macros are no-ops in other builds.)

NodePool::NodePool(std::size_t slot_bytes) : slot_bytes_(slot_bytes)
{
    assert(slot_bytes % kAlign == 0 && slot_bytes >= sizeof(FreeSlot) && slot_bytes <= kChunkBytes / 4);
}

NodePool::~NodePool()
{
    release_chunks();
}

void NodePool::release_chunks()
{
    for (void* c : chunks_) {
        ASAN_UNPOISON_MEMORY_REGION(c, kChunkBytes);
        ::operator delete(c, std::align_val_t{kChunkBytes});
    }
    chunks_.clear();
    free_ = nullptr;
    fresh_ = fresh_end_ = nullptr;
}

void* NodePool::take()
{
    const std::lock_guard lock(mutex_);
    if (FreeSlot* s = free_) {
        ASAN_UNPOISON_MEMORY_REGION(s, slot_bytes_);
        free_ = s->next;
        ++in_use_;
        return s;
    }
    if (fresh_end_ - fresh_ < static_cast<std::ptrdiff_t>(slot_bytes_)) {
        chunks_.reserve(chunks_.size() + 1); // may throw; nothing has changed yet
        void* c = ::operator new(kChunkBytes, std::align_val_t{kChunkBytes});
        // Only a hint: without transparent huge pages (or with them set to "never") the chunk stays on
        // small pages, and only the TLB saving is lost.
        (void)madvise(c, kChunkBytes, MADV_HUGEPAGE);
        ASAN_POISON_MEMORY_REGION(c, kChunkBytes);
        chunks_.push_back(c);
        fresh_ = static_cast<char*>(c);
        fresh_end_ = fresh_ + kChunkBytes;
    }
    void* s = fresh_;
    ASAN_UNPOISON_MEMORY_REGION(s, slot_bytes_);
    fresh_ += slot_bytes_;
    ++in_use_;
    return s;
}

void NodePool::give(void* slot)
{
    const std::lock_guard lock(mutex_);
    free_ = new (slot) FreeSlot{free_};
    ASAN_POISON_MEMORY_REGION(slot, slot_bytes_);
    if (--in_use_ == 0)
        release_chunks();
}

std::size_t NodePool::bytes() const
{
    const std::lock_guard lock(mutex_);
    return chunks_.size() * kChunkBytes;
}

} // namespace viommu::hw::virtio_iommu
