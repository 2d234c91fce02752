// Overflow-safe arithmetic for guest-controlled numbers.
//
// Every length and address that comes from the guest is combined through these helpers, so a range
// that wraps past 2^64 is an error value, never a silent wrap.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

namespace viommu {

template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> checked_add(T a, T b)
{
    T r;
    if (__builtin_add_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> checked_sub(T a, T b)
{
    T r;
    if (__builtin_sub_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> checked_mul(T a, T b)
{
    T r;
    if (__builtin_mul_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

// The last byte of [start, start + len): nullopt when len is 0 or the range wraps past 2^64.
[[nodiscard]] constexpr std::optional<uint64_t> last_byte(uint64_t start, uint64_t len)
{
    if (len == 0)
        return std::nullopt;
    return checked_add(start, len - 1);
}

// Whether [start, start + len) lies inside [base, base + size).
[[nodiscard]] constexpr bool contains(uint64_t base, uint64_t size, uint64_t start, uint64_t len)
{
    if (start < base)
        return false;
    const uint64_t offset = start - base;
    return offset <= size && len <= size - offset;
}

[[nodiscard]] constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

[[nodiscard]] constexpr bool is_aligned(uint64_t v, uint64_t alignment)
{
    return (v & (alignment - 1)) == 0;
}

} // namespace viommu
