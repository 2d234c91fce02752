#include "guest-model/profiles/kernel_version.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace viommu::guest::profiles {

Expected<KernelVersion, std::string> KernelVersion::parse(std::string_view text)
{
    const auto bad = [&] {
        return unexpected(fmt::format("\"{}\" is not a kernel version (expected MAJOR.MINOR[.PATCH], e.g. 6.1 or 5.15.63)",
                                      text));
    };
    std::string_view rest = text;
    if (!rest.empty() && rest.front() == 'v')
        rest.remove_prefix(1);
    unsigned parts[3] = {0, 0, 0};
    int count = 0;
    while (true) {
        if (count == 3 || rest.empty())
            return bad();
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), parts[count]);
        if (ec != std::errc() || end == rest.data())
            return bad();
        ++count;
        rest.remove_prefix(static_cast<size_t>(end - rest.data()));
        if (rest.empty())
            break;
        if (rest.front() != '.')
            return bad();
        rest.remove_prefix(1);
    }
    if (count < 2)
        return bad();
    return KernelVersion{parts[0], parts[1], parts[2]};
}

std::optional<KernelVersion::Prefixed> KernelVersion::parse_prefix(std::string_view release)
{
    // The longest run of digits and dots at the start, without a dot at its end ("6.1." is not a version).
    std::size_t end = 0;
    while (end < release.size() && (std::isdigit(static_cast<unsigned char>(release[end])) || release[end] == '.'))
        ++end;
    while (end > 0 && release[end - 1] == '.')
        --end;
    auto version = parse(release.substr(0, end));
    if (!version)
        return std::nullopt;
    return Prefixed{*version, release.substr(end)};
}

std::string KernelVersion::str() const
{
    if (patch == 0)
        return fmt::format("{}.{}", major, minor);
    return fmt::format("{}.{}.{}", major, minor, patch);
}

} // namespace viommu::guest::profiles
