#include "base/pci_address.h"

#include <optional>

#include <fmt/format.h>

namespace viommu {

namespace {

// The value of digits that must all be hex digits, either case; nullopt when one is not.
std::optional<uint64_t> hex_field(std::string_view digits)
{
    uint64_t value = 0;
    for (const char c : digits) {
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            return std::nullopt;
        value = value << 4 | d;
    }
    return value;
}

} // namespace

Expected<PciAddress, std::string> PciAddress::from_fields(uint64_t domain, uint64_t bus, uint64_t slot,
                                                          uint64_t function)
{
    const auto out_of_range = [](std::string_view field, uint64_t value, uint64_t limit) {
        return unexpected(fmt::format("PCI {} {:#x} is out of range (at most {:#x})", field, value, limit - 1));
    };
    if (domain >= kDomains)
        return out_of_range("domain", domain, kDomains);
    if (bus >= kBuses)
        return out_of_range("bus", bus, kBuses);
    if (slot >= kSlots)
        return out_of_range("slot", slot, kSlots);
    if (function >= kFunctions)
        return out_of_range("function", function, kFunctions);
    return PciAddress(static_cast<uint16_t>(domain), static_cast<uint8_t>(bus),
                      static_cast<uint8_t>(slot << 3 | function));
}

Expected<PciAddress, std::string> PciAddress::parse(std::string_view text)
{
    constexpr std::size_t kLong = 12; // "DDDD:BB:SS.F"
    constexpr std::size_t kShort = 7; // "BB:SS.F", the long form without "DDDD:"
    const auto refuse = [&](std::string_view why) {
        return unexpected(
            fmt::format("'{}' is not a PCI address: {} (DDDD:BB:SS.F, or BB:SS.F in domain 0, in hex)", text, why));
    };
    const bool with_domain = text.size() == kLong;
    if (!with_domain && text.size() != kShort)
        return refuse(fmt::format("{} characters, not {} or {}", text.size(), kLong, kShort));
    const std::string_view rest = with_domain ? text.substr(kLong - kShort) : text;
    if ((with_domain && text[4] != ':') || rest[2] != ':' || rest[5] != '.')
        return refuse("the separators are not ':', ':' and '.'");
    const std::optional<uint64_t> domain = with_domain ? hex_field(text.substr(0, 4)) : 0;
    const std::optional<uint64_t> bus = hex_field(rest.substr(0, 2));
    const std::optional<uint64_t> slot = hex_field(rest.substr(3, 2));
    const std::optional<uint64_t> function = hex_field(rest.substr(6, 1));
    if (!domain || !bus || !slot || !function)
        return refuse("a field is not all hex digits");
    auto address = from_fields(*domain, *bus, *slot, *function);
    if (!address)
        return refuse(address.error());
    return address;
}

std::string PciAddress::to_string() const
{
    return fmt::format("{:04x}:{}", domain_, to_short_string());
}

std::string PciAddress::to_short_string() const
{
    return fmt::format("{:02x}:{:02x}.{}", bus_, slot(), function());
}

} // namespace viommu
