// Little-endian wire integers. Every virtio structure is little-endian (virtio v1.2 §1.4); the byte order
// lives in these types, so no caller converts by hand.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace viommu::virtio {

template <class T>
class Le {
    static_assert(std::is_unsigned_v<T>);

public:
    constexpr Le() = default;
    constexpr Le(T host) : raw_(convert(host)) {} // NOLINT: implicit by design, like a plain integer field
    constexpr T get() const { return convert(raw_); }
    constexpr operator T() const { return get(); } // NOLINT
    constexpr bool operator==(const Le&) const = default;

private:
    static constexpr T convert(T v)
    {
        if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
            return v;
        } else if constexpr (sizeof(T) == 2) {
            return __builtin_bswap16(v);
        } else if constexpr (sizeof(T) == 4) {
            return __builtin_bswap32(v);
        } else {
            return __builtin_bswap64(v);
        }
    }
    T raw_{};
};

using le16 = Le<uint16_t>;
using le32 = Le<uint32_t>;
using le64 = Le<uint64_t>;

static_assert(sizeof(le16) == 2 && sizeof(le32) == 4 && sizeof(le64) == 8);
static_assert(std::is_trivially_copyable_v<le64>);

} // namespace viommu::virtio
