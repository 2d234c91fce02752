#include "hw/virtio-iommu/mapping_store.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

#include "hw/virtio-iommu/node_pool.h"

namespace viommu::hw::virtio_iommu {

namespace {
// 32 entries: a leaf's keys fill four cache lines and a full leaf costs 28.5 bytes an entry.
constexpr int kLeafCap = 32;
// 64 keys (an inner node has up to 65 children): a million mappings sit three inner levels deep, a
// thousand under one root.
constexpr int kInnerCap = 64;
// Nodes (about 1 KiB each) up to which the tree is taken to stay in the caches: 2 MiB, twice the L2 of
// the machine docs/PERFORMANCE.md measures on (1 MiB a core), well within its L3.
constexpr std::size_t kCachedNodes = 2048;
// Nodes from which a store takes new ones from the shared NodePool on huge pages: 4 MiB, beyond what the
// TLB holds on 4 KiB pages (1,536 to 2,048 second-level entries on current x86 cores). Below it, nodes
// from operator new cost less (a slot holds the larger node: 1,088 bytes against a leaf's 920), and
// domains of a few mappings, the common case, do not reserve a 2 MiB chunk.
constexpr std::size_t kPooledNodes = 4096;
} // namespace

namespace btree {
struct Node {
    bool leaf;
    bool pooled;    // from a NodePool, else from operator new
    uint16_t count; // entries (leaf) or keys (inner)
};

struct Leaf : Node {
    uint64_t start[kLeafCap];
    uint64_t end[kLeafCap];
    uint64_t phys[kLeafCap];
    uint32_t flags[kLeafCap];
    Leaf* prev;
    Leaf* next;
};

// child[i] holds keys k with key[i-1] <= k < key[i].
struct Inner : Node {
    uint64_t key[kInnerCap];
    Node* child[kInnerCap + 1];
};
} // namespace btree

namespace {

using btree::Inner;
using btree::Leaf;
using btree::Node;

// Index of the first element > key in a sorted array (the child to descend into, or the insert slot).
// Branch-free: halving steps the compiler turns into conditional moves (Khuong and Morin's form), down
// to a window of 8 whose elements are compared independently of each other. A random lookup pays no
// mispredicted branch, and only the halving steps wait on each other's loads.
inline int upper_bound(const uint64_t* keys, int count, uint64_t key)
{
    constexpr int kWindow = 8;
    int below = 0;
    if (count < kWindow) {
        for (int i = 0; i < count; ++i)
            below += keys[i] <= key ? 1 : 0;
        return below;
    }
    // Invariant: elements before base are <= key, elements from base + n on are > key.
    const uint64_t* base = keys;
    int n = count;
    while (n > kWindow) {
        const int half = n / 2;
        base = base[half] <= key ? base + half : base;
        n -= half;
    }
    // A full window, moved left if it would run past the last element: what it gains on the left is
    // <= key and counted, so the sum stays right, and a fixed trip count unrolls without branches.
    base = std::min(base, keys + count - kWindow);
    for (int i = 0; i < kWindow; ++i)
        below += base[i] <= key ? 1 : 0;
    return static_cast<int>(base - keys) + below;
}

Mapping leaf_entry(const Leaf* l, int i)
{
    return {IovaRange{Iova(l->start[i]), Iova(l->end[i])}, l->phys[i], l->flags[i]};
}

void leaf_set(Leaf* l, int i, const Mapping& m)
{
    l->start[i] = m.iova.first.value();
    l->end[i] = m.iova.last.value();
    l->phys[i] = m.phys_start;
    l->flags[i] = m.flags;
}

// Moves leaf entries [from, count) by delta slots (delta may be negative). At most 32 entries move, so
// one inline loop over the four arrays beats four calls to memmove.
void leaf_shift(Leaf* l, int from, int delta)
{
    auto move = [&](int i) {
        l->start[i + delta] = l->start[i];
        l->end[i + delta] = l->end[i];
        l->phys[i + delta] = l->phys[i];
        l->flags[i + delta] = l->flags[i];
    };
    if (delta > 0)
        for (int i = l->count - 1; i >= from; --i)
            move(i);
    else
        for (int i = from; i < l->count; ++i)
            move(i);
}

// Inserts m at slot pos of a leaf with room.
void leaf_insert_at(Leaf* l, int pos, const Mapping& m)
{
    leaf_shift(l, pos, 1);
    leaf_set(l, pos, m);
    ++l->count;
}

// Inserts m at its place in a leaf with room, and returns that place.
int leaf_insert(Leaf* l, const Mapping& m)
{
    const int pos = upper_bound(l->start, l->count, m.iova.first.value());
    leaf_insert_at(l, pos, m);
    return pos;
}

// Copies n entries from src[from..] to dst[to..].
void leaf_copy(Leaf* dst, int to, const Leaf* src, int from, int n)
{
    std::memcpy(&dst->start[to], &src->start[from], n * sizeof(uint64_t));
    std::memcpy(&dst->end[to], &src->end[from], n * sizeof(uint64_t));
    std::memcpy(&dst->phys[to], &src->phys[from], n * sizeof(uint64_t));
    std::memcpy(&dst->flags[to], &src->flags[from], n * sizeof(uint32_t));
}

// A pooled slot holds either kind of node.
static_assert(std::is_trivially_destructible_v<Leaf> && std::is_trivially_destructible_v<Inner>);
constexpr std::size_t kSlotBytes =
    (std::max(sizeof(Leaf), sizeof(Inner)) + NodePool::kAlign - 1) / NodePool::kAlign * NodePool::kAlign;

// The pool of every store's pooled nodes; never destroyed, so that a store outliving static
// destruction can still give its nodes back.
NodePool& shared_pool()
{
    static NodePool* const pool = new NodePool(kSlotBytes);
    return *pool;
}

// A node's memory, from the pool or from operator new.
template <class T>
T* new_node(NodePool* pool)
{
    T* n = new (pool ? pool->take() : ::operator new(sizeof(T))) T;
    n->leaf = std::is_same_v<T, Leaf>;
    n->pooled = pool != nullptr;
    n->count = 0;
    return n;
}

Leaf* new_leaf(NodePool* pool)
{
    Leaf* l = new_node<Leaf>(pool);
    l->prev = l->next = nullptr;
    return l;
}

Inner* new_inner(NodePool* pool) { return new_node<Inner>(pool); }

void free_node(Node* n)
{
    if (n->pooled)
        shared_pool().give(n);
    else
        ::operator delete(n);
}

void destroy(Node* n)
{
    if (!n)
        return;
    if (!n->leaf) {
        Inner* in = static_cast<Inner*>(n);
        for (int i = 0; i <= in->count; ++i)
            destroy(in->child[i]);
    }
    free_node(n);
}

struct FreeNode {
    void operator()(Node* n) const { free_node(n); }
};

struct Split {
    uint64_t separator;
    Node* right;
};

// Levels a tree can have: a leaf holds at least 16 entries and an inner node at least 33 children, so 16
// levels would hold more than 2^64 mappings.
constexpr int kMaxDepth = 16;

// The nodes one insert may need, allocated before the insert changes anything: an allocation failure
// then throws std::bad_alloc from the constructor with the store untouched, instead of half-way through
// a split with a node already moved out of the tree.
class NodeReserve {
public:
    NodeReserve(bool leaf, std::size_t inners, NodePool* pool)
    {
        assert(inners <= inners_.size());
        if (leaf)
            leaf_.reset(new_leaf(pool));
        for (; count_ < inners; ++count_)
            inners_[count_].reset(new_inner(pool));
    }
    Leaf* take_leaf() { return leaf_.release(); }
    Inner* take_inner()
    {
        assert(taken_ < count_);
        return inners_[taken_++].release();
    }

private:
    std::unique_ptr<Leaf, FreeNode> leaf_;
    std::array<std::unique_ptr<Inner, FreeNode>, kMaxDepth> inners_;
    std::size_t count_ = 0;
    std::size_t taken_ = 0;
};

} // namespace

MappingStore::MappingStore() = default;

MappingStore::MappingStore(MappingStore&& o) noexcept
    : root_(std::exchange(o.root_, nullptr)), size_(std::exchange(o.size_, 0)), leaves_(std::exchange(o.leaves_, 0)),
      inners_(std::exchange(o.inners_, 0)), last_leaf_(std::exchange(o.last_leaf_, nullptr))
{
}

MappingStore& MappingStore::operator=(MappingStore&& o) noexcept
{
    if (this != &o) {
        clear();
        root_ = std::exchange(o.root_, nullptr);
        size_ = std::exchange(o.size_, 0);
        leaves_ = std::exchange(o.leaves_, 0);
        inners_ = std::exchange(o.inners_, 0);
        last_leaf_ = std::exchange(o.last_leaf_, nullptr);
    }
    return *this;
}

MappingStore::~MappingStore()
{
    destroy(root_);
}

void MappingStore::clear()
{
    last_leaf_ = nullptr;
    destroy(root_);
    root_ = nullptr;
    size_ = leaves_ = inners_ = 0;
}

namespace {
std::size_t node_bytes(const Node* n)
{
    std::size_t bytes = n->pooled ? kSlotBytes : n->leaf ? sizeof(Leaf) : sizeof(Inner);
    if (!n->leaf) {
        const Inner* in = static_cast<const Inner*>(n);
        for (int i = 0; i <= in->count; ++i)
            bytes += node_bytes(in->child[i]);
    }
    return bytes;
}
} // namespace

std::size_t MappingStore::pooled_bytes()
{
    return shared_pool().bytes();
}

std::size_t MappingStore::memory_bytes() const
{
    return root_ ? node_bytes(root_) : 0;
}

namespace {

// Asks for every cache line of a node at once. A search of a node that is not cached then waits for one
// memory access, all its lines arriving together, instead of one access per halving step of the search
// and one more for the entry found (in a million mappings, the leaves and most inner nodes are not).
void prefetch_node(const Node* n)
{
    constexpr std::size_t kLine = 64;
    constexpr std::size_t kBytes = std::max(sizeof(Leaf), sizeof(Inner));
    const char* p = reinterpret_cast<const char*>(n);
    for (std::size_t at = 0; at < kBytes; at += kLine)
        __builtin_prefetch(p + at);
}

} // namespace

MappingStore::Leaf* MappingStore::find_leaf(uint64_t key) const
{
    Node* n = root_;
    if (!n)
        return nullptr;
    // A tree of a few thousand nodes stays in the caches, where the prefetches would only add work
    // (random lookups among 1,000 mappings: 25 ns without them, 29 ns with them).
    if (leaves_ + inners_ <= kCachedNodes) {
        while (!n->leaf) {
            const Inner* in = static_cast<const Inner*>(n);
            n = in->child[upper_bound(in->key, in->count, key)];
        }
        return static_cast<Leaf*>(n);
    }
    while (!n->leaf) {
        const Inner* in = static_cast<const Inner*>(n);
        n = in->child[upper_bound(in->key, in->count, key)];
        prefetch_node(n);
    }
    return static_cast<Leaf*>(n);
}

MappingStore::Leaf* MappingStore::leaf_for(uint64_t key) const
{
    // A leaf's keys lie inside its separators, so a key between its first and last keys would be routed
    // to it by the descent too.
    if (Leaf* l = last_leaf_; l && l->start[0] <= key && key <= l->start[l->count - 1])
        return l;
    last_leaf_ = find_leaf(key);
    return last_leaf_;
}

std::optional<Mapping> MappingStore::floor(uint64_t key) const
{
    const Leaf* l = leaf_for(key);
    if (!l)
        return std::nullopt;
    int i = upper_bound(l->start, l->count, key) - 1;
    if (i < 0) {
        // Every key in this leaf is above: the floor is the last entry of the previous leaf.
        l = l->prev;
        if (!l)
            return std::nullopt;
        i = l->count - 1;
    }
    return leaf_entry(l, i);
}

std::optional<Mapping> MappingStore::ceiling(uint64_t key) const
{
    const Leaf* l = leaf_for(key);
    if (!l)
        return std::nullopt;
    int i = static_cast<int>(std::lower_bound(l->start, l->start + l->count, key) - l->start);
    if (i == l->count) {
        l = l->next;
        if (!l)
            return std::nullopt;
        i = 0;
    }
    return leaf_entry(l, i);
}

namespace {
// Whether iova lies between the first entry's start and the last entry's end of a non-empty leaf.
bool spans(const Leaf* l, uint64_t iova) { return iova >= l->start[0] && iova <= l->end[l->count - 1]; }
} // namespace

std::optional<Mapping> MappingStore::find(Iova address) const
{
    const uint64_t iova = address.value();
    // Consecutive DMA accesses usually stay in one leaf: check the last one before descending (a
    // one-entry IOTLB). Its range is read live, so a leaf that shrank or grew is still judged right.
    const Leaf* l = last_leaf_;
    // A walk that reached the cached leaf's last entry goes on into the next leaf: step there instead
    // of descending, and ask for the leaf after it now, so that its lines have arrived when the walk
    // does (leaves lie wherever they were allocated, which the hardware prefetcher cannot follow).
    // Only after a last-entry hit: a random lookup does not pay for reading the next leaf.
    if (l && last_index_ == l->count - 1 && l->next && !spans(l, iova) && spans(l->next, iova)) {
        l = last_leaf_ = l->next;
        last_index_ = 0;
        if (l->next)
            prefetch_node(l->next);
    }
    if (l && spans(l, iova)) {
        // A sequential walk hits the entry of the last hit or the next one: try them before searching.
        // Any entry that contains iova is the answer, so a stale index costs a miss, never a wrong one.
        for (int i = last_index_; i < l->count && i <= last_index_ + 1; ++i)
            if (l->start[i] <= iova && iova <= l->end[i]) {
                last_index_ = i;
                return leaf_entry(l, i);
            }
    } else {
        l = last_leaf_ = find_leaf(iova);
    }
    if (!l)
        return std::nullopt;
    const int i = upper_bound(l->start, l->count, iova) - 1;
    // A leaf holds every key from its lower separator up, so an entry starting at or below iova is in
    // this leaf unless iova is below the leaf's first key; then the previous leaf's last entry.
    if (i >= 0) {
        if (l->end[i] < iova)
            return std::nullopt;
        last_index_ = i;
        return leaf_entry(l, i);
    }
    if (const Leaf* p = l->prev; p && p->end[p->count - 1] >= iova)
        return leaf_entry(p, p->count - 1);
    return std::nullopt;
}

bool MappingStore::overlaps(IovaRange range) const
{
    // The mapping with the greatest start <= range.last is the only candidate: any other one that starts
    // at or below it ends before it starts.
    const auto f = floor(range.last.value());
    return f && f->iova.intersects(range);
}

namespace {

// Where an entry sits.
struct Spot {
    Leaf* leaf = nullptr;
    int index = 0;
};

// Inserts m below n; `landed` is where m ends up.
std::optional<Split> insert_rec(Node* n, const Mapping& m, Spot& landed, NodeReserve& reserve, std::size_t& leaves,
                                std::size_t& inners)
{
    if (n->leaf) {
        Leaf* l = static_cast<Leaf*>(n);
        if (l->count < kLeafCap) {
            landed = {l, leaf_insert(l, m)};
            return std::nullopt;
        }
        const int pos = upper_bound(l->start, l->count, m.iova.first.value());
        // Split. Appending past the last leaf (ascending IOVAs, the DMA allocator's common pattern) keeps
        // the full leaf full instead of leaving two half-empty ones.
        Leaf* r = reserve.take_leaf();
        ++leaves;
        const int keep = (pos == kLeafCap && !l->next) ? kLeafCap : kLeafCap / 2;
        leaf_copy(r, 0, l, keep, kLeafCap - keep);
        r->count = static_cast<uint16_t>(kLeafCap - keep);
        l->count = static_cast<uint16_t>(keep);
        r->next = l->next;
        if (r->next)
            r->next->prev = r;
        r->prev = l;
        l->next = r;
        Leaf* target = pos <= keep && !(keep == kLeafCap && pos == kLeafCap) ? l : r;
        const int tpos = target == l ? pos : pos - keep;
        leaf_insert_at(target, tpos, m);
        landed = {target, tpos};
        return Split{r->start[0], r};
    }
    Inner* in = static_cast<Inner*>(n);
    const int ci = upper_bound(in->key, in->count, m.iova.first.value());
    const auto split = insert_rec(in->child[ci], m, landed, reserve, leaves, inners);
    if (!split)
        return std::nullopt;
    if (in->count < kInnerCap) {
        std::memmove(&in->key[ci + 1], &in->key[ci], (in->count - ci) * sizeof(uint64_t));
        std::memmove(&in->child[ci + 2], &in->child[ci + 1], (in->count - ci) * sizeof(Node*));
        in->key[ci] = split->separator;
        in->child[ci + 1] = split->right;
        ++in->count;
        return std::nullopt;
    }
    // Split a full inner node: gather its kInnerCap + 1 keys, push the middle one up.
    uint64_t keys[kInnerCap + 1];
    Node* kids[kInnerCap + 2];
    std::copy_n(in->key, ci, keys);
    keys[ci] = split->separator;
    std::copy(in->key + ci, in->key + kInnerCap, keys + ci + 1);
    std::copy_n(in->child, ci + 1, kids);
    kids[ci + 1] = split->right;
    std::copy(in->child + ci + 1, in->child + kInnerCap + 1, kids + ci + 2);
    const int mid = (kInnerCap + 1) / 2;
    Inner* r = reserve.take_inner();
    ++inners;
    in->count = static_cast<uint16_t>(mid);
    std::copy_n(keys, mid, in->key);
    std::copy_n(kids, mid + 1, in->child);
    r->count = static_cast<uint16_t>(kInnerCap - mid);
    std::copy_n(keys + mid + 1, r->count, r->key);
    std::copy_n(kids + mid + 1, r->count + 1, r->child);
    return Split{keys[mid], r};
}

// The nodes inserting key will need, when there is no tree yet or key's leaf is full.
NodeReserve reserve_for(const Node* root, uint64_t key, NodePool* pool)
{
    if (!root)
        return NodeReserve(true, 0, pool);
    // The path down to key's leaf; a split climbs it while the nodes are full, and a full root grows a
    // new one.
    const Node* path[kMaxDepth];
    int depth = 0;
    for (const Node* n = root;;) {
        path[depth++] = n;
        if (n->leaf)
            break;
        const Inner* in = static_cast<const Inner*>(n);
        n = in->child[upper_bound(in->key, in->count, key)];
    }
    std::size_t inners = 0;
    for (int i = depth - 2; i >= 0 && path[i]->count == kInnerCap; --i)
        ++inners;
    if (inners == static_cast<std::size_t>(depth - 1))
        ++inners; // every node on the path splits, the root too: a new root above it
    return NodeReserve(true, inners, pool);
}

} // namespace

void MappingStore::insert(const Mapping& m)
{
    // Between the cached leaf's first and last keys, m belongs to that leaf (see leaf_for); with room
    // there, no descent and no separator changes. The cache then points at m, so an UNMAP of what was
    // just mapped (a strict-mode DMA unmap) finds it without a search.
    if (Leaf* l = last_leaf_; l && l->count < kLeafCap && l->start[0] < m.iova.first.value() &&
                              m.iova.first.value() < l->start[l->count - 1]) {
        last_index_ = leaf_insert(l, m);
        ++size_;
        return;
    }
    // A leaf with room takes the entry in place: no node to allocate, no separator above it changes.
    if (Leaf* l = find_leaf(m.iova.first.value()); l && l->count < kLeafCap) {
        last_leaf_ = l;
        last_index_ = leaf_insert(l, m);
        ++size_;
        return;
    }
    // The only step that may throw.
    NodePool* pool = leaves_ + inners_ >= kPooledNodes ? &shared_pool() : nullptr;
    NodeReserve reserve = reserve_for(root_, m.iova.first.value(), pool);
    ++size_;
    if (!root_) {
        root_ = reserve.take_leaf();
        ++leaves_;
    }
    Spot landed;
    const auto split = insert_rec(root_, m, landed, reserve, leaves_, inners_);
    last_leaf_ = landed.leaf;
    last_index_ = landed.index;
    if (split) {
        Inner* root = reserve.take_inner();
        ++inners_;
        root->count = 1;
        root->key[0] = split->separator;
        root->child[0] = root_;
        root->child[1] = split->right;
        root_ = root;
    }
}

namespace {

// Merges child[i + 1] into child[i] of `in` when both fit in one node, and drops the separator.
void merge_children(Inner* in, int i, std::size_t& leaves, std::size_t& inners)
{
    Node* a = in->child[i];
    Node* b = in->child[i + 1];
    if (a->leaf) {
        Leaf* la = static_cast<Leaf*>(a);
        Leaf* lb = static_cast<Leaf*>(b);
        if (la->count + lb->count > kLeafCap)
            return;
        leaf_copy(la, la->count, lb, 0, lb->count);
        la->count = static_cast<uint16_t>(la->count + lb->count);
        la->next = lb->next;
        if (la->next)
            la->next->prev = la;
        free_node(lb);
        --leaves;
    } else {
        Inner* ia = static_cast<Inner*>(a);
        Inner* ib = static_cast<Inner*>(b);
        if (ia->count + 1 + ib->count > kInnerCap)
            return;
        ia->key[ia->count] = in->key[i];
        std::copy_n(ib->key, ib->count, ia->key + ia->count + 1);
        std::copy_n(ib->child, ib->count + 1, ia->child + ia->count + 1);
        ia->count = static_cast<uint16_t>(ia->count + 1 + ib->count);
        free_node(ib);
        --inners;
    }
    std::memmove(&in->key[i], &in->key[i + 1], (in->count - i - 1) * sizeof(uint64_t));
    std::memmove(&in->child[i + 1], &in->child[i + 2], (in->count - i - 1) * sizeof(Node*));
    --in->count;
}

enum class Erased { kOk, kUnderfull, kEmpty };

// An inner node always keeps at least one child, so only a leaf is ever reported empty here; an inner
// node whose only child emptied is reported by erase_rec itself.
Erased state_of(const Node* n)
{
    if (n->leaf && n->count == 0)
        return Erased::kEmpty;
    return n->count < (n->leaf ? kLeafCap : kInnerCap) / 4 ? Erased::kUnderfull : Erased::kOk;
}

// Frees an empty leaf (unlinking it from the leaf chain) or an inner node whose children are gone.
void free_empty(Node* c, std::size_t& leaves, std::size_t& inners)
{
    if (c->leaf) {
        Leaf* l = static_cast<Leaf*>(c);
        if (l->prev)
            l->prev->next = l->next;
        if (l->next)
            l->next->prev = l->prev;
        free_node(l);
        --leaves;
    } else {
        free_node(c);
        --inners;
    }
}

// Removes child ci of `in` (an empty leaf or a childless inner node) and one separator next to it.
void drop_child(Inner* in, int ci, std::size_t& leaves, std::size_t& inners)
{
    free_empty(in->child[ci], leaves, inners);
    const int k = ci > 0 ? ci - 1 : 0; // the separator between the dropped child and a neighbour
    std::memmove(&in->key[k], &in->key[k + 1], (in->count - k - 1) * sizeof(uint64_t));
    std::memmove(&in->child[ci], &in->child[ci + 1], (in->count - ci) * sizeof(Node*));
    --in->count;
}

// Removes key below n and reports what became of n; the parent merges an underfull child with a
// sibling when both fit in one node, and drops an empty one.
Erased erase_rec(Node* n, uint64_t key, std::size_t& leaves, std::size_t& inners)
{
    if (n->leaf) {
        Leaf* l = static_cast<Leaf*>(n);
        const int i = upper_bound(l->start, l->count, key) - 1;
        assert(i >= 0 && l->start[i] == key);
        leaf_shift(l, i + 1, -1);
        --l->count;
        return state_of(l);
    }
    Inner* in = static_cast<Inner*>(n);
    const int ci = upper_bound(in->key, in->count, key);
    switch (erase_rec(in->child[ci], key, leaves, inners)) {
    case Erased::kOk: return Erased::kOk;
    case Erased::kEmpty:
        if (in->count == 0) {
            // The only child is gone: this node is empty too, and its parent frees it.
            free_empty(in->child[0], leaves, inners);
            return Erased::kEmpty;
        }
        drop_child(in, ci, leaves, inners);
        break;
    case Erased::kUnderfull:
        if (in->count > 0)
            merge_children(in, ci < in->count ? ci : ci - 1, leaves, inners);
        break;
    }
    return state_of(in);
}

} // namespace

void MappingStore::erase(uint64_t key)
{
    last_leaf_ = nullptr; // the leaf may be merged away or freed
    if (erase_rec(root_, key, leaves_, inners_) == Erased::kEmpty) {
        // Everything is gone; an empty root leaf is deleted below, an empty root inner node here.
        if (!root_->leaf) {
            free_node(root_);
            --inners_;
            root_ = nullptr;
        }
    }
    --size_;
    if (!root_)
        return;
    // Collapse a root with a single child, and drop an empty tree.
    while (!root_->leaf && root_->count == 0) {
        Inner* old = static_cast<Inner*>(root_);
        root_ = old->child[0];
        free_node(old);
        --inners_;
    }
    if (root_->leaf && root_->count == 0) {
        free_node(root_);
        root_ = nullptr;
        --leaves_;
    }
}

MappingStore::RemoveResult MappingStore::remove_range(IovaRange range, FunctionRef<void(const Mapping&)> on_removed)
{
    const uint64_t start = range.first.value();
    const uint64_t end = range.last.value();
    Leaf* l = leaf_for(start);
    if (!l)
        return RemoveResult::kRemoved;
    // The candidates are the mapping holding `start` (the floor) and those that start inside the range.
    // An entry starting exactly at `start` is the floor, so the cached index (the mapping just inserted,
    // for a MAP undone by an UNMAP) needs no search when it names one.
    const bool cached = last_index_ < l->count && l->start[last_index_] == start;
    int i = cached ? last_index_ : upper_bound(l->start, l->count, start) - 1;
    if (i < 0 && l->prev) {
        if (const Leaf* p = l->prev; p->end[p->count - 1] >= start)
            return RemoveResult::kWouldSplit; // it starts before `start` and reaches it
    } else if (i >= 0 && l->start[i] < start && l->end[i] >= start) {
        return RemoveResult::kWouldSplit;
    }
    const int first = i >= 0 && l->start[i] == start ? i : i + 1;
    // Walk forward over the mappings that start inside the range; a split at `end` refuses everything.
    int last = first - 1;
    bool one_leaf = true;
    const Leaf* w = l;
    for (int j = first;; ++j) {
        if (j == w->count) {
            w = w->next;
            j = 0;
            if (!w)
                break;
        }
        if (w->start[j] > end)
            break;
        if (w->end[j] > end)
            return RemoveResult::kWouldSplit;
        if (w == l)
            last = j;
        else
            one_leaf = false;
    }
    const int n = last - first + 1;
    if (one_leaf && n == 0)
        return RemoveResult::kRemoved;
    // The common case, everything in one leaf that stays well filled (or is the root and keeps an
    // entry): remove in place. A B+-tree's separators stay valid bounds when keys leave, so nothing
    // above the leaf changes.
    const bool stays_filled = root_ == l ? n < l->count : l->count - n >= kLeafCap / 4;
    if (one_leaf && stays_filled) {
        for (int k = first; k <= last; ++k)
            on_removed(leaf_entry(l, k));
        leaf_shift(l, last + 1, -n);
        l->count = static_cast<uint16_t>(l->count - n);
        size_ -= static_cast<std::size_t>(n);
        return RemoveResult::kRemoved;
    }
    // Otherwise one key at a time, with the tree's rebalancing.
    for (auto m = ceiling(start); m && m->iova.first <= range.last; m = ceiling(start)) {
        on_removed(*m);
        erase(m->iova.first.value());
    }
    return RemoveResult::kRemoved;
}

void MappingStore::for_each(FunctionRef<void(const Mapping&)> fn) const
{
    const Node* n = root_;
    if (!n)
        return;
    while (!n->leaf)
        n = static_cast<const Inner*>(n)->child[0];
    for (const Leaf* l = static_cast<const Leaf*>(n); l; l = l->next)
        for (int i = 0; i < l->count; ++i)
            fn(leaf_entry(l, i));
}

namespace {

// Checks the subtree below n holds keys in [lo, hi) (hi exclusive unless unbounded), returns its depth.
int check_rec(const Node* n, uint64_t lo, uint64_t hi, bool bounded, std::size_t& entries, bool& ok)
{
    if (n->leaf) {
        const Leaf* l = static_cast<const Leaf*>(n);
        for (int i = 0; i < l->count; ++i) {
            ok &= l->start[i] >= lo && (!bounded || l->start[i] < hi) && l->start[i] <= l->end[i];
            if (i > 0)
                ok &= l->end[i - 1] < l->start[i];
        }
        ok &= l->count > 0;
        entries += l->count;
        return 1;
    }
    const Inner* in = static_cast<const Inner*>(n);
    int depth = -1;
    for (int i = 0; i <= in->count; ++i) {
        const uint64_t clo = i == 0 ? lo : in->key[i - 1];
        const bool cb = i < in->count || bounded;
        const uint64_t chi = i < in->count ? in->key[i] : hi;
        if (i > 0 && i < in->count)
            ok &= in->key[i - 1] < in->key[i];
        const int d = check_rec(in->child[i], clo, chi, cb, entries, ok);
        ok &= depth < 0 || d == depth;
        depth = d;
    }
    return depth + 1;
}

} // namespace

bool MappingStore::check_invariants() const
{
    if (!root_)
        return size_ == 0;
    bool ok = true;
    std::size_t entries = 0;
    check_rec(root_, 0, 0, false, entries, ok);
    // The leaf chain visits every entry in order, ending where the chain ends.
    std::size_t chained = 0;
    uint64_t last = 0;
    bool first = true;
    for_each([&](const Mapping& m) {
        ok &= first || m.iova.first.value() > last;
        first = false;
        last = m.iova.first.value();
        ++chained;
    });
    return ok && entries == size_ && chained == size_;
}

} // namespace viommu::hw::virtio_iommu
