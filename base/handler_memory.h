// Memory for the one Boost.Asio handler a component keeps in flight, so that posting it never
// allocates (Asio's "allocation" example). Asio asks a handler for its allocator through the nested
// allocator_type / get_allocator(); InPlaceHandler supplies one backed by a HandlerMemory.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include <boost/asio/post.hpp>

namespace viommu {

class HandlerMemory {
public:
    HandlerMemory() = default;
    HandlerMemory(const HandlerMemory&) = delete;
    HandlerMemory& operator=(const HandlerMemory&) = delete;

    void* allocate(std::size_t size)
    {
        if (!in_use_ && size <= sizeof(storage_)) {
            in_use_ = true;
            return &storage_;
        }
        return ::operator new(size); // a second handler in flight, or a larger one: fall back
    }
    void deallocate(void* p)
    {
        if (p == &storage_)
            in_use_ = false;
        else
            ::operator delete(p);
    }

private:
    alignas(std::max_align_t) unsigned char storage_[256];
    bool in_use_ = false;
};

template <class T>
class HandlerAllocator {
public:
    using value_type = T;
    explicit HandlerAllocator(HandlerMemory& m) : memory_(&m) {}
    template <class U>
    HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}
    T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
    void deallocate(T* p, std::size_t) { memory_->deallocate(p); }
    template <class U>
    bool operator==(const HandlerAllocator<U>& o) const noexcept { return memory_ == o.memory_; }

private:
    template <class>
    friend class HandlerAllocator;
    HandlerMemory* memory_;
};

// Wraps a callable so that Asio allocates its handler from `memory`.
template <class F>
struct InPlaceHandler {
    using allocator_type = HandlerAllocator<std::byte>;
    HandlerMemory* memory;
    F fn;
    allocator_type get_allocator() const noexcept { return allocator_type(*memory); }
    void operator()() { fn(); }
};

template <class F>
InPlaceHandler<std::decay_t<F>> in_place_handler(HandlerMemory& memory, F&& fn)
{
    return {&memory, std::forward<F>(fn)};
}

// The slot of a component that posts one handler at a time and may go away while it is queued: the
// handler holds the slot (its memory, and whether its owner is still there), so the memory Asio keeps
// the queued operation in outlives the owner, up to the operation's own run or destruction (an
// io_context destroys what is still queued when it shuts down). Asio moves the handler out of its
// memory before freeing that memory, so the slot is released only after.
struct PostedSlot {
    HandlerMemory memory;
    bool owner_alive = true;
};

// Posts fn to run on executor from slot's memory, unless slot's owner is gone by then.
template <class Executor, class F>
void post_in_slot(const Executor& executor, const std::shared_ptr<PostedSlot>& slot, F&& fn)
{
    boost::asio::post(executor, in_place_handler(slot->memory, [slot, fn = std::forward<F>(fn)]() mutable {
                          if (slot->owner_alive)
                              fn();
                      }));
}

} // namespace viommu
