#include "guest-model/profiles/kconfig.h"

#include <regex>

#include <fmt/format.h>

#include "base/text.h"

namespace viommu::guest::profiles {
namespace {

// A "quoted string" value as conf_write() escapes it (a backslash before '"' and '\').
std::optional<std::string> unquote(std::string_view value)
{
    if (value.size() < 2 || value.front() != '"' || value.back() != '"')
        return std::nullopt;
    std::string out;
    for (std::size_t i = 1; i + 1 < value.size(); ++i) {
        if (value[i] == '\\' && i + 2 < value.size())
            ++i;
        else if (value[i] == '"')
            return std::nullopt;
        out.push_back(value[i]);
    }
    return out;
}

} // namespace

bool looks_like_kconfig(std::string_view text)
{
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string_view line = trim_blanks(text.substr(start, end - start));
        if (!line.empty())
            return line.front() == '#' || line.starts_with("CONFIG_");
        start = end + 1;
    }
    return false;
}

Expected<Kconfig, std::string> parse_kconfig(std::string_view text, std::string_view source)
{
    static const std::regex header(R"(# Linux/(\S+) (\S+) Kernel Configuration)");
    static const std::regex assignment(R"((CONFIG_[A-Za-z0-9_]+)=(.*))");
    static const std::regex not_set(R"(# (CONFIG_[A-Za-z0-9_]+) is not set)");
    Kconfig config;
    std::optional<std::string> arch_word;
    std::optional<std::string> version_word;
    std::size_t start = 0;
    for (std::size_t number = 1; start < text.size(); ++number) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string line(trim_blanks(text.substr(start, end - start)));
        start = end + 1;
        std::smatch m;
        if (std::regex_match(line, m, header) && !arch_word) {
            arch_word = m[1];
            version_word = m[2];
        } else if (std::regex_match(line, m, not_set)) {
            config.symbols.insert_or_assign(m[1].str(), std::string("n"));
        } else if (std::regex_match(line, m, assignment)) {
            const std::string value = m[2];
            const auto unquoted = value.starts_with('"') ? unquote(value) : std::optional<std::string>(value);
            if (!unquoted || value.empty())
                return unexpected(fmt::format("{}: line {}: {} has no value Kconfig writes (y, m, a number or a "
                                              "\"string\")",
                                              source, number, std::string(m[1])));
            config.symbols.insert_or_assign(m[1].str(), *unquoted);
        } else if (!line.empty() && line.front() != '#') {
            return unexpected(fmt::format("{}: line {}: neither CONFIG_NAME=VALUE nor a comment, so not a kernel "
                                          "configuration",
                                          source, number));
        }
    }
    if (!arch_word)
        return unexpected(fmt::format("{}: no \"# Linux/ARCH VERSION Kernel Configuration\" line, which names the "
                                      "kernel release this configuration is for",
                                      source));
    const auto version = KernelVersion::parse_prefix(*version_word);
    if (!version)
        return unexpected(fmt::format("{}: the header's \"{}\" is not a kernel version", source, *version_word));
    config.version = version->version;
    // ARCH is the source tree's arch/ directory: x86 builds both i386 and x86_64 kernels (CONFIG_X86_64
    // decides); before v2.6.24 x86_64 had its own.
    const auto x86_64 = config.symbols.find("CONFIG_X86_64");
    if ((*arch_word == "x86" && x86_64 != config.symbols.end() && x86_64->second == "y") || *arch_word == "x86_64")
        config.arch = Arch::kX86_64;
    else if (*arch_word == "arm64")
        config.arch = Arch::kAarch64;
    else
        return unexpected(fmt::format("{}: a kernel for {}{}; viommu models x86_64 and arm64 (aarch64) guests", source,
                                      *arch_word, *arch_word == "x86" ? " without CONFIG_X86_64 (32-bit)" : ""));
    return config;
}

} // namespace viommu::guest::profiles
