#include "system/truth/debian_package.h"

#include <cstdio>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "system/truth/host_command.h"

namespace viommu::system::truth {
namespace fs = std::filesystem;
namespace {

// apt-get download names the file NAME_VERSION_ARCH.deb.
std::optional<fs::path> find_deb(const fs::path& cache, const std::string& name, const std::string& arch)
{
    const std::string prefix = name + "_";
    std::string suffix = ".deb";
    if (!arch.empty())
        suffix.insert(0, "_" + arch);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache, ec)) {
        const std::string file = e.path().filename().string();
        if (file.starts_with(prefix) && file.ends_with(suffix))
            return e.path();
    }
    return std::nullopt;
}

} // namespace

std::string deb_version(const std::string& file_name)
{
    const size_t first = file_name.find('_');
    const size_t last = file_name.rfind('_');
    if (first == std::string::npos || last <= first)
        return "";
    std::string v = file_name.substr(first + 1, last - first - 1);
    if (const size_t colon = v.find("%3a"); colon != std::string::npos)
        v.replace(colon, 3, ":");
    return v;
}

Expected<UnpackedPackage, std::string> fetch_package(const std::string& package, const fs::path& cache)
{
    std::error_code ec;
    fs::create_directories(cache, ec);
    if (ec)
        return unexpected(fmt::format("cannot create the cache {}: {}", cache.string(), ec.message()));
    const size_t colon = package.find(':');
    const std::string name = package.substr(0, colon);
    const std::string arch = colon == std::string::npos ? "" : package.substr(colon + 1);

    std::optional<fs::path> deb = find_deb(cache, name, arch);
    if (!deb) {
        spdlog::info("downloading {} into {}", package, cache.string()); // progress: minutes, at times
        const std::vector<std::string> download = {"apt-get", "download", "-q", package};
        CommandOptions in_cache;
        in_cache.cwd = cache;
        in_cache.stdout_file = cache / "apt-get-download.log";
        if (run_command(download, in_cache).status != 0)
            return unexpected(fmt::format("{} failed (log: {})", command_text(download),
                                          (cache / "apt-get-download.log").string()));
        deb = find_deb(cache, name, arch);
        if (!deb)
            return unexpected(fmt::format("apt-get download left no {}_*.deb in {}", name, cache.string()));
    }
    UnpackedPackage p;
    p.version = deb_version(deb->filename().string());
    p.root = cache / name;
    if (!arch.empty())
        p.root += "-" + arch;
    if (!fs::exists(p.root / ".unpacked")) {
        const fs::path partial = fs::path(p.root.string() + ".partial");
        fs::remove_all(partial, ec);
        if (run_command({"dpkg-deb", "-x", deb->string(), partial.string()}).status != 0)
            return unexpected(fmt::format("dpkg-deb -x {} failed", deb->string()));
        fs::remove_all(p.root, ec);
        fs::rename(partial, p.root, ec);
        if (ec)
            return unexpected(fmt::format("cannot move {} into place: {}", partial.string(), ec.message()));
        std::FILE* stamp = std::fopen((p.root / ".unpacked").c_str(), "w");
        if (stamp)
            std::fclose(stamp);
    }
    return p;
}

} // namespace viommu::system::truth
