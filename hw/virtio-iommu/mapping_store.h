// The mappings of one IOMMU domain: disjoint IOVA intervals [virt_start, virt_end], each to a physical
// start with permission flags.
//
// A B+-tree keyed by virt_start. Leaves hold their entries as parallel arrays (28 bytes an entry), so a
// million mappings take ~30-45 MiB instead of the ~100 MiB of a node-per-mapping tree (QEMU's GTree,
// std::map), and a lookup touches a few cache lines per level. All operations are O(log n); a lookup
// never allocates. Leaves are linked, so range walks (UNMAP, replay) are sequential. The leaf and entry
// last used are cached: sequential lookups, and an UNMAP of what was just mapped, skip the descent.
// Past a few thousand nodes, new nodes come from the process's NodePool on huge pages (node_pool.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/function_ref.h"
#include "hw/virtio-iommu/ids.h"

namespace viommu::hw::virtio_iommu {

namespace btree {
struct Node;
struct Leaf;
struct Inner;
} // namespace btree

struct Mapping {
    IovaRange iova;          // [virt_start, virt_end]
    uint64_t phys_start = 0; // the guest-physical address of iova.first
    uint32_t flags = 0;
    bool operator==(const Mapping&) const = default;
};

class MappingStore {
public:
    MappingStore();
    MappingStore(MappingStore&&) noexcept;
    MappingStore& operator=(MappingStore&&) noexcept;
    MappingStore(const MappingStore&) = delete;
    MappingStore& operator=(const MappingStore&) = delete;
    ~MappingStore();

    // The mapping that contains iova.
    [[nodiscard]] std::optional<Mapping> find(Iova iova) const;
    // Whether any mapping intersects the range.
    [[nodiscard]] bool overlaps(IovaRange range) const;
    // Adds a mapping that overlaps none (the caller checks with overlaps()).
    void insert(const Mapping& m);

    enum class RemoveResult { kRemoved, kWouldSplit };
    // Removes every mapping inside the range, calling on_removed(mapping) for each in order, unless a
    // mapping crosses either end: then nothing is removed (kWouldSplit) and on_removed is not called.
    RemoveResult remove_range(IovaRange range, FunctionRef<void(const Mapping&)> on_removed);

    // Visits every mapping in IOVA order.
    void for_each(FunctionRef<void(const Mapping&)> fn) const;

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    // Bytes held by the tree's nodes, a pooled node counting as its slot (what a mapping really costs).
    // Walks the tree: for tests and benchmarks.
    std::size_t memory_bytes() const;
    // Bytes the pool shared by every store holds (node_pool.h).
    static std::size_t pooled_bytes();
    void clear();

    // Structural self-check for tests: keys sorted, separators right, counts consistent.
    [[nodiscard]] bool check_invariants() const;

private:
    using Node = btree::Node;
    using Leaf = btree::Leaf;
    using Inner = btree::Inner;

    // The leaf whose key range holds key.
    Leaf* find_leaf(uint64_t key) const;
    // find_leaf(), answered from the cached leaf when key lies between its first and last keys.
    Leaf* leaf_for(uint64_t key) const;
    // The mapping with the greatest virt_start <= key.
    std::optional<Mapping> floor(uint64_t key) const;
    // The mapping with the least virt_start >= key.
    std::optional<Mapping> ceiling(uint64_t key) const;
    void erase(uint64_t key);

    Node* root_ = nullptr;
    std::size_t size_ = 0;
    std::size_t leaves_ = 0;
    std::size_t inners_ = 0;
    // The leaf last looked up or inserted into, and the entry last found or inserted in it. The store
    // belongs to one guest, used from one thread (docs/design.md, "The event loop"), so the cache needs no
    // synchronisation. Reset whenever a leaf may be freed.
    mutable Leaf* last_leaf_ = nullptr;
    mutable int last_index_ = 0;
};

} // namespace viommu::hw::virtio_iommu
