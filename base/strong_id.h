// Strong integer types: a domain ID cannot be passed where an endpoint ID is expected.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>

#include <fmt/format.h>

namespace viommu {

template <class Tag, class Rep>
class StrongId {
public:
    using rep = Rep;
    constexpr StrongId() = default;
    constexpr explicit StrongId(Rep v) : value_(v) {}
    constexpr Rep value() const { return value_; }
    constexpr auto operator<=>(const StrongId&) const = default;

private:
    Rep value_{};
};

} // namespace viommu

template <class Tag, class Rep>
struct std::hash<viommu::StrongId<Tag, Rep>> {
    std::size_t operator()(viommu::StrongId<Tag, Rep> id) const noexcept { return std::hash<Rep>{}(id.value()); }
};

// Formats as the integer it holds, with the integer's format specs ("{:#06x}").
template <class Tag, class Rep>
struct fmt::formatter<viommu::StrongId<Tag, Rep>> : fmt::formatter<Rep> {
    auto format(viommu::StrongId<Tag, Rep> id, fmt::format_context& ctx) const
    {
        return fmt::formatter<Rep>::format(id.value(), ctx);
    }
};
