#include "guest-model/profiles/uname_release.h"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "guest-model/profiles/profile.h"

namespace viommu::guest::profiles {
namespace {

// The architecture a release string names, where it names one: Debian's flavours (linux/debian/config
// in Debian's kernel source: amd64, cloud-amd64, rt-amd64, arm64, arm64-16k, cloud-arm64, rt-arm64),
// Ubuntu's arm64-only "generic-64k", Fedora's %{_target_cpu} suffix.
std::optional<Arch> named_arch(const std::string& rest)
{
    static const std::regex amd64(R"(.*-(cloud-|rt-)?amd64|.*\.x86_64)");
    static const std::regex arm64(R"(.*-(cloud-|rt-)?arm64(-16k)?|.*\.aarch64|.*-generic-64k)");
    if (std::regex_match(rest, amd64))
        return Arch::kX86_64;
    if (std::regex_match(rest, arm64))
        return Arch::kAarch64;
    return std::nullopt;
}

std::string with_arch(std::string_view name, Arch arch)
{
    return arch == Arch::kAarch64 ? fmt::format("{}-arm64", name) : std::string(name);
}

bool is_builtin(const std::string& name)
{
    const std::vector<std::string> names = Profile::builtin_names();
    return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

std::optional<UnameMatch> match_uname_release(std::string_view release)
{
    const auto prefixed = KernelVersion::parse_prefix(release);
    if (!prefixed || prefixed->rest.empty())
        return std::nullopt;
    const std::string rest(prefixed->rest);
    // utsname.release: the kernel's version, then its LOCALVERSION, made of these in every distribution.
    static const std::regex release_chars(R"([-+.~_][A-Za-z0-9.+~_-]*)");
    if (!std::regex_match(rest, release_chars))
        return std::nullopt;
    const KernelVersion v = prefixed->version;
    const std::optional<Arch> arch = named_arch(rest);
    const std::string text(release);

    // Debian's flavours end in amd64 or arm64; bookworm's 6.1 is 6.1.0-ABI (or bullseye-backports'
    // 6.1.0-0.deb11.N), its 6.12 6.12.N+bpo (backports) or 6.12.N+deb12 (bookworm-security).
    static const std::regex debian_6_1(R"(-([0-9]+|0\.deb11\.[0-9]+)-(cloud-|rt-)?(amd64|arm64(-16k)?))");
    static const std::regex debian_6_12(R"(\+(bpo|deb12)-(cloud-|rt-)?(amd64|arm64(-16k)?))");
    if (arch && v == KernelVersion{6, 1, 0} && std::regex_match(rest, debian_6_1))
        return UnameMatch{with_arch("debian-12", *arch),
                          fmt::format("{} is Debian 12's 6.1 kernel for {}", text, arch_name(*arch))};
    if (arch && v.same_tree(KernelVersion{6, 12, 0}) && std::regex_match(rest, debian_6_12))
        return UnameMatch{with_arch("debian-12-6.12", *arch),
                          fmt::format("{} is Debian 12's 6.12 kernel for {} ({})", text, arch_name(*arch),
                                      rest.find("+bpo") == 0 ? "bookworm-backports" : "bookworm-security")};

    // Any other release: its version, as --kernel reads a plain version (a built-in profile of that name,
    // else the facts table with the default configuration); a built-in profile is taken only for the
    // architecture the string names, since a string like Ubuntu's "-generic" names none.
    const std::string version = v.str();
    if (arch && is_builtin(with_arch(version, *arch)))
        return UnameMatch{with_arch(version, *arch),
                          fmt::format("{} is Linux {} for {}, not a distribution kernel with a built-in profile: the "
                                      "mainline profile of that release",
                                      text, version, arch_name(*arch))};
    return UnameMatch{version,
                      fmt::format("{} is Linux {}, not a distribution kernel with a built-in profile: the facts table "
                                  "for {}, its configuration the mainline Kconfig defaults (for what this kernel "
                                  "builds, give its configuration: -k /boot/config-{})",
                                  text, v.str(), version, text)};
}

} // namespace viommu::guest::profiles
