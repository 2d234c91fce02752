#include "base/parse.h"

#include <fmt/format.h>

#include "base/checked.h"

namespace viommu {

Expected<uint64_t, std::string> parse_u64(std::string_view text, uint64_t max)
{
    const std::string shown(text);
    std::string_view digits = text;
    unsigned base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        digits.remove_prefix(2);
        base = 16;
    }
    if (digits.empty())
        return unexpected(fmt::format("'{}' is not a number", shown));
    uint64_t value = 0;
    for (char c : digits) {
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            return unexpected(fmt::format("'{}' is not a number", shown));
        const auto scaled = checked_mul<uint64_t>(value, base);
        const auto next = scaled ? checked_add<uint64_t>(*scaled, d) : std::nullopt;
        if (!next)
            return unexpected(fmt::format("'{}' does not fit in 64 bits", shown));
        value = *next;
    }
    if (value > max)
        return unexpected(fmt::format("'{}' is larger than {:#x}", shown, max));
    return value;
}

Expected<uint64_t, std::string> parse_size(std::string_view text)
{
    uint64_t unit = 1;
    std::string_view number = text;
    if (!number.empty()) {
        switch (number.back()) {
        case 'k':
        case 'K': unit = 1ull << 10; break;
        case 'm':
        case 'M': unit = 1ull << 20; break;
        case 'g':
        case 'G': unit = 1ull << 30; break;
        default: break;
        }
        if (unit != 1)
            number.remove_suffix(1);
    }
    auto value = parse_u64(number);
    if (!value)
        return unexpected(fmt::format("'{}' is not a size (e.g. 4096, 4k, 2M)", text));
    const auto bytes = checked_mul<uint64_t>(*value, unit);
    if (!bytes)
        return unexpected(fmt::format("'{}' does not fit in 64 bits", text));
    return *bytes;
}

} // namespace viommu
