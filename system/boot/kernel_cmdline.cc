#include "system/boot/kernel_cmdline.h"

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace viommu::system::boot {

namespace {

struct Arg {
    std::string name;
    std::optional<std::string> value; // none: the word had no '='
    std::string word;                 // as written, for warnings
};

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// lib/cmdline.c next_arg(): a word ends at a space outside double quotes; a leading quote on the word
// or on its value is dropped together with the value's closing quote.
std::vector<Arg> split(std::string_view text)
{
    std::vector<Arg> args;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i]))
            ++i;
        if (i == text.size())
            break;
        const size_t start = i;
        bool in_quote = false;
        for (; i < text.size() && (in_quote || !is_space(text[i])); ++i)
            if (text[i] == '"')
                in_quote = !in_quote;
        std::string_view word = text.substr(start, i - start);
        Arg arg;
        arg.word = std::string(word);
        std::string_view body = word;
        if (!body.empty() && body.front() == '"')
            body.remove_prefix(1);
        const size_t eq = body.find('=');
        if (eq == std::string_view::npos) {
            if (!body.empty() && body.back() == '"')
                body.remove_suffix(1);
            arg.name = std::string(body);
        } else {
            arg.name = std::string(body.substr(0, eq));
            std::string_view value = body.substr(eq + 1);
            if (!value.empty() && value.front() == '"')
                value.remove_prefix(1);
            if (!value.empty() && value.back() == '"')
                value.remove_suffix(1);
            arg.value = std::string(value);
        }
        args.push_back(std::move(arg));
    }
    return args;
}

// kernel/params.c parameq(): '-' and '_' are the same in parameter names.
std::string canonical_name(std::string_view name)
{
    std::string out(name);
    for (char& c : out)
        if (c == '-')
            c = '_';
    return out;
}

// lib/kstrtox.c kstrtobool() as every kernel since 4.6 has it: the first character y/Y/1 or n/N/0, or
// "on"/"off" by their first two. (Later kernels also take t/f; a profile-independent spec sticks to the
// common set and reports the rest.)
std::optional<bool> kernel_bool(std::string_view v)
{
    if (v.empty())
        return std::nullopt;
    switch (v[0]) {
    case 'y':
    case 'Y':
    case '1': return true;
    case 'n':
    case 'N':
    case '0': return false;
    case 'o':
    case 'O':
        if (v.size() >= 2 && (v[1] == 'n' || v[1] == 'N'))
            return true;
        if (v.size() >= 2 && (v[1] == 'f' || v[1] == 'F'))
            return false;
        return std::nullopt;
    default: return std::nullopt;
    }
}

// kstrtoint(str, 10, ...): an optional sign, decimal digits, an optional trailing newline.
std::optional<int> kernel_int(std::string_view v)
{
    if (!v.empty() && v.front() == '+')
        v.remove_prefix(1);
    int out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size() || v.empty())
        return std::nullopt;
    return out;
}

} // namespace

KernelCmdline parse_kernel_cmdline(std::string_view text, Arch arch, std::vector<std::string>& warnings)
{
    KernelCmdline out;
    std::vector<std::string> unknown;
    const auto refused = [&](const Arg& arg, std::string_view why) {
        warnings.push_back(fmt::format("kernel command line: '{}' is ignored: {}", arg.word, why));
    };
    // Module parameters of type bool (module_param(..., bool, ...)): a bare name means true
    // (param_set_bool() reads a missing value as "1").
    const auto module_bool = [&](const Arg& arg, bool& field) {
        const std::optional<bool> v = arg.value ? kernel_bool(*arg.value) : std::optional<bool>(true);
        if (!v)
            return refused(arg, "param_set_bool() accepts y/n/1/0/on/off");
        field = *v;
    };
    // early_param()s parsed with kstrtobool(): a bare name is "Malformed early option".
    const auto early_bool = [&](const Arg& arg, std::optional<bool>& field) {
        const std::optional<bool> v = arg.value ? kernel_bool(*arg.value) : std::nullopt;
        if (!v)
            return refused(arg, "the kernel reads it with kstrtobool(), which accepts y/n/1/0/on/off");
        field = *v;
    };

    for (const Arg& arg : split(text)) {
        // kernel/params.c parse_args(): "--" hands the rest to init.
        if (arg.word == "--")
            break;
        const std::string name = canonical_name(arg.name);
        if (name == "iommu.passthrough") {
            early_bool(arg, out.passthrough); // drivers/iommu/iommu.c iommu_set_def_domain_type()
        } else if (name == "iommu.strict") {
            early_bool(arg, out.strict); // drivers/iommu/iommu.c iommu_dma_setup()
        } else if (name == "vfio_iommu_type1.allow_unsafe_interrupts") {
            module_bool(arg, out.allow_unsafe_interrupts);
        } else if (name == "vfio.enable_unsafe_noiommu_mode") {
            module_bool(arg, out.enable_unsafe_noiommu_mode);
        } else if (name == "iommufd.allow_unsafe_interrupts") {
            module_bool(arg, out.iommufd_allow_unsafe_interrupts);
        } else if (name == "deferred_probe_timeout") {
            // drivers/base/dd.c deferred_probe_timeout_setup(): kstrtoint(str, 10, ...), else ignored.
            const std::optional<int> v = arg.value ? kernel_int(*arg.value) : std::nullopt;
            if (!v)
                refused(arg, "deferred_probe_timeout_setup() takes a decimal integer");
            else
                out.deferred_probe_timeout = *v;
        } else if (name == "iommu" && arch == Arch::kX86_64 && arg.value && (*arg.value == "pt" || *arg.value == "nopt")) {
            // arch/x86/kernel/pci-dma.c iommu_setup(): "pt" is iommu_set_default_passthrough(),
            // "nopt" iommu_set_default_translated(), the same setting as iommu.passthrough=.
            out.passthrough = *arg.value == "pt";
        } else {
            unknown.push_back(arg.word);
        }
    }
    if (!unknown.empty())
        warnings.push_back(fmt::format("kernel command line: not modelled, so without effect here: {}",
                                       fmt::join(unknown, " ")));
    return out;
}

} // namespace viommu::system::boot
