#include "guest-model/profiles/kernel_argument.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "base/input_file.h"
#include "guest-model/profiles/gzip_text.h"
#include "guest-model/profiles/kconfig.h"
#include "guest-model/profiles/uname_release.h"

namespace viommu::guest::profiles {
namespace {

// A .config is about 300 KiB (Debian 12's amd64 one, 6.1; allmodconfig's is not much more), a profile
// document a few KiB: 1 MiB read, as for a profile document (Profile::from_file), and 8 MiB inflated keep
// /dev/zero or a gzip bomb from filling memory.
constexpr std::size_t kMaxFile = 1 << 20;
constexpr std::size_t kMaxInflated = 8 << 20;

// The symbols that decide what the model does with a virtio-iommu and VFIO, as the file sets them.
std::string decisive_symbols(const Profile& p)
{
    std::vector<std::string> said;
    for (const char* key : {"CONFIG_VIRTIO_IOMMU", "CONFIG_ACPI_VIOT", "CONFIG_VFIO", "CONFIG_VFIO_NOIOMMU",
                            "CONFIG_IOMMUFD", "CONFIG_VFIO_DEVICE_CDEV", "CONFIG_IOMMU_DEFAULT_PASSTHROUGH",
                            "CONFIG_IOMMU_DEFAULT_DMA_STRICT", "CONFIG_IOMMU_DEFAULT_DMA_LAZY"})
        if (const auto value = p.config(key))
            said.push_back(fmt::format("{}={}", key, *value));
    return fmt::format("{}", fmt::join(said, ", "));
}

Expected<KernelChoice, std::string> from_file(const std::string& path)
{
    auto data = read_input_file(path, kMaxFile);
    if (!data)
        return unexpected(fmt::format("{}: cannot read: {}", path, data.error().reason));
    if (is_gzip(*data)) {
        auto inflated = gunzip(*data, kMaxInflated);
        if (!inflated)
            return unexpected(fmt::format("{}: gzip-compressed, but {}", path, inflated.error()));
        if (!looks_like_kconfig(*inflated))
            return unexpected(fmt::format("{}: gzip-compressed, but not a kernel configuration", path));
        data = std::move(*inflated);
    } else if (!looks_like_kconfig(*data)) {
        auto profile = Profile::from_file(path);
        if (!profile)
            return unexpected(profile.error());
        return KernelChoice{std::move(*profile), ""};
    }
    const auto config = parse_kconfig(*data, path);
    if (!config)
        return unexpected(config.error());
    auto profile = Profile::from_kconfig(*config, std::filesystem::path(path).filename().string());
    if (!profile)
        return unexpected(profile.error());
    std::string how = fmt::format("{} is the configuration of Linux {} for {} (its header): the facts table of {} "
                                  "decides the behaviours, the file the configuration: {}",
                                  path, config->version.str(), arch_name(config->arch), config->version.str(),
                                  decisive_symbols(*profile));
    return KernelChoice{std::move(*profile), std::move(how)};
}

} // namespace

Expected<KernelChoice, std::string> resolve_kernel_argument(const std::string& argument)
{
    const std::vector<std::string> builtins = Profile::builtin_names();
    if (std::find(builtins.begin(), builtins.end(), argument) != builtins.end() || KernelVersion::parse(argument)) {
        auto profile = Profile::load(argument);
        if (!profile)
            return unexpected(profile.error());
        return KernelChoice{std::move(*profile), ""};
    }
    if (std::ifstream(argument))
        return from_file(argument);
    if (const auto match = match_uname_release(argument)) {
        auto profile = Profile::load(match->profile);
        if (!profile)
            return unexpected(profile.error());
        return KernelChoice{std::move(*profile), fmt::format("{}: profile {}", match->why, match->profile)};
    }
    return unexpected(fmt::format("unknown kernel \"{}\": not a built-in profile ({}), not a kernel version "
                                  "(MAJOR.MINOR[.PATCH]), not a readable file (a kernel configuration or a profile "
                                  "JSON document) and not a release as `uname -r` prints it (6.1.0-18-amd64)",
                                  argument, fmt::join(builtins, ", ")));
}

} // namespace viommu::guest::profiles
