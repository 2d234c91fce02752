#include "tests/support/replaced_new.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<uint64_t> g_allocations{0};
// Allocations left before the throwing forms fail; UINT64_MAX: never.
std::atomic<uint64_t> g_left{UINT64_MAX};
} // namespace

namespace viommu::test {

uint64_t allocations() { return g_allocations.load(); }
void fail_allocations_after(uint64_t successes) { g_left.store(successes); }
void allow_allocations() { g_left.store(UINT64_MAX); }

} // namespace viommu::test

// Every form of operator new and delete is replaced as a set: a sanitizer that sees memory
// from its own operator new (say the nothrow form, which Catch2 uses) reach our free() reports a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept
{
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n)
{
    for (uint64_t left = g_left.load(); left != UINT64_MAX;)
        if (left == 0)
            throw std::bad_alloc();
        else if (g_left.compare_exchange_weak(left, left - 1))
            break;
    if (void* p = operator new(n, std::nothrow))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
// The aligned forms (the mapping store's node pool takes its 2 MiB chunks with one) fail on the same
// count.
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept
{
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    const auto align = static_cast<std::size_t>(a);
    return std::aligned_alloc(align, (n + align - 1) / align * align); // a multiple of align, as it asks
}
void* operator new(std::size_t n, std::align_val_t a)
{
    for (uint64_t left = g_left.load(); left != UINT64_MAX;)
        if (left == 0)
            throw std::bad_alloc();
        else if (g_left.compare_exchange_weak(left, left - 1))
            break;
    if (void* p = operator new(n, a, std::nothrow))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept
{
    return operator new(n, a, std::nothrow);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
// g++ sees free() on memory from "operator new" and cannot tell that this operator new is malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
