// Little-endian wire integers. Every virtio structure is little-endian (virtio v1.2 §1.4); the byte order
// lives in these types, so no caller converts by hand. They are stored as bytes, so they have no
// alignment: a wire struct built from them has exactly the spec's size with no padding, wherever its
// fields fall (a request read without its tail, for instance).
#pragma once

#include <bit>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <span>
#include <type_traits>

namespace viommu::virtio {

template <class T>
class Le {
    static_assert(std::is_unsigned_v<T>);

public:
    constexpr Le() = default;
    constexpr Le(T host) { set(host); } // NOLINT: implicit by design, like a plain integer field
    constexpr T get() const
    {
        if (std::is_constant_evaluated() || std::endian::native != std::endian::little) {
            T v = 0;
            for (std::size_t i = 0; i < sizeof(T); ++i)
                v |= static_cast<T>(static_cast<T>(raw_[i]) << (8 * i));
            return v;
        }
        T v; // one unaligned load on a little-endian host
        std::memcpy(&v, raw_, sizeof v);
        return v;
    }
    constexpr void set(T v)
    {
        if (std::is_constant_evaluated() || std::endian::native != std::endian::little) {
            for (std::size_t i = 0; i < sizeof(T); ++i)
                raw_[i] = static_cast<uint8_t>(v >> (8 * i));
            return;
        }
        std::memcpy(raw_, &v, sizeof v);
    }
    constexpr operator T() const { return get(); } // NOLINT
    constexpr bool operator==(const Le&) const = default;

private:
    uint8_t raw_[sizeof(T)] = {};
};

using le16 = Le<uint16_t>;
using le32 = Le<uint32_t>;
using le64 = Le<uint64_t>;

static_assert(sizeof(le16) == 2 && sizeof(le32) == 4 && sizeof(le64) == 8);
static_assert(std::is_trivially_copyable_v<le64> && alignof(le64) == 1);

// A 16-bit field of a ring area the device keeps a host view of (the caller checked offset + 2 <= size).
inline uint16_t load_le16(std::span<const uint8_t> area, uint64_t offset)
{
    le16 v;
    std::memcpy(&v, area.data() + offset, sizeof v);
    return v.get();
}

inline void store_le16(std::span<uint8_t> area, uint64_t offset, uint16_t value)
{
    const le16 v(value);
    std::memcpy(area.data() + offset, &v, sizeof v);
}

} // namespace viommu::virtio
