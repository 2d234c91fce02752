// A queue's ring as DeviceBase holds it: split (§2.7) or packed (§2.8, when VIRTIO_F_RING_PACKED is
// negotiated). A variant rather than an interface: each call is one predictable branch to a function
// the compiler sees, not a virtual call, so the split ring's hot path stays as it was.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "base/expected.h"
#include "virtio/descriptor_chain.h"
#include "virtio/guest_memory.h"
#include "virtio/packed_queue.h"
#include "virtio/queue_error.h"
#include "virtio/queue_layout.h"
#include "virtio/split_queue.h"

namespace viommu::virtio {

class Virtqueue {
    // std::visit without its exception path: the variant is never valueless (both alternatives move
    // without throwing). Declared first: the members below deduce their return types through it.
    template <class Fn>
    decltype(auto) visit(Fn&& fn)
    {
        if (SplitQueue* s = std::get_if<SplitQueue>(&ring_))
            return fn(*s);
        return fn(*std::get_if<PackedQueue>(&ring_));
    }

public:
    enum class Format : uint8_t { kSplit, kPacked };

    [[nodiscard]] static Expected<Virtqueue, QueueError> create(GuestMemory& mem, uint32_t size,
                                                                const QueueLayout& layout, Format format);

    Format format() const { return std::holds_alternative<SplitQueue>(ring_) ? Format::kSplit : Format::kPacked; }
    SplitQueue* split() { return std::get_if<SplitQueue>(&ring_); }
    PackedQueue* packed() { return std::get_if<PackedQueue>(&ring_); }

    [[nodiscard]] Expected<bool, QueueError> pop_into(std::optional<DescriptorChain>& slot)
    {
        if (SplitQueue* s = split()) [[likely]]
            return s->pop_into(slot);
        return std::get_if<PackedQueue>(&ring_)->pop_into(slot);
    }
    [[nodiscard]] Expected<std::optional<DescriptorChain>, QueueError> pop()
    {
        return visit([](auto& q) { return q.pop(); });
    }
    void push_used(DescriptorChain&& chain, uint32_t written)
    {
        if (SplitQueue* s = split()) [[likely]]
            s->push_used(std::move(chain), written);
        else
            std::get_if<PackedQueue>(&ring_)->push_used(std::move(chain), written);
    }
    void unpop(DescriptorChain&& chain)
    {
        visit([&](auto& q) { q.unpop(std::move(chain)); });
    }
    [[nodiscard]] bool should_notify()
    {
        return visit([](auto& q) { return q.should_notify(); });
    }
    void set_notification(bool enabled)
    {
        visit([&](auto& q) { q.set_notification(enabled); });
    }
    [[nodiscard]] bool has_available() const
    {
        return std::visit([](const auto& q) { return q.has_available(); }, ring_);
    }
    uint32_t size() const
    {
        return std::visit([](const auto& q) { return q.size(); }, ring_);
    }
    QueueIndices indices() const
    {
        return std::visit([](const auto& q) { return q.indices(); }, ring_);
    }
    // false (nothing changed) when the indices cannot be this ring's.
    [[nodiscard]] bool restore(const QueueIndices& indices);

private:
    template <class T>
    explicit Virtqueue(T&& ring) : ring_(std::forward<T>(ring))
    {
    }
    std::variant<SplitQueue, PackedQueue> ring_;
};

} // namespace viommu::virtio
