#include "system/truth/kernel_package.h"

#include <cstring>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "system/truth/host_command.h"

namespace viommu::system::truth {
namespace fs = std::filesystem;
namespace {

constexpr TruthProfile kProfiles[] = {
    // Debian 12's backported 6.12 kernel (bookworm-backports, then bookworm-security).
    {"debian-12-6.12", R"(^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$)", "qemu-system-x86_64"},
    // Debian 12's stock 6.1 kernel; it builds no virtio-iommu driver (CONFIG_VIRTIO_IOMMU unset).
    {"debian-12", R"(^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$)", "qemu-system-x86_64"},
};

// The newest name by version order (strverscmp: 6.12.118 after 6.12.99).
std::string newest(const std::vector<std::string>& names)
{
    std::string best;
    for (const std::string& n : names)
        if (best.empty() || strverscmp(n.c_str(), best.c_str()) > 0)
            best = n;
    return best;
}

// "6.12.118-1~deb12u1" from "PKG_6.12.118-1~deb12u1_amd64.deb" (apt writes ':' of an epoch as %3a).
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

std::optional<fs::path> find_deb(const fs::path& cache, const std::string& package)
{
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(package + "_", 0) == 0 && name.ends_with(".deb"))
            return e.path();
    }
    return std::nullopt;
}

} // namespace

const TruthProfile* truth_profile(std::string_view name)
{
    for (const TruthProfile& p : kProfiles)
        if (p.name == name)
            return &p;
    return nullptr;
}

std::string truth_profile_names()
{
    std::string out;
    for (const TruthProfile& p : kProfiles)
        out += (out.empty() ? "" : ", ") + std::string(p.name);
    return out;
}

fs::path default_cache_dir()
{
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return fs::path(xdg) / "viommu";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".cache" / "viommu";
    return fs::temp_directory_path() / "viommu-cache";
}

Expected<KernelPackage, std::string> fetch_kernel(const TruthProfile& profile, const fs::path& cache)
{
    std::error_code ec;
    fs::create_directories(cache, ec);
    if (ec)
        return unexpected(fmt::format("cannot create the cache {}: {}", cache.string(), ec.message()));

    const CommandResult names = run_command({"apt-cache", "pkgnames", "linux-image-"});
    if (names.status != 0)
        return unexpected(std::string("apt-cache pkgnames failed"));
    const std::regex series{std::string(profile.package_regex)};
    std::vector<std::string> matching;
    std::istringstream lines(names.out);
    for (std::string line; std::getline(lines, line);)
        if (std::regex_match(line, series))
            matching.push_back(line);
    if (matching.empty())
        return unexpected(fmt::format("apt knows no package matching {} (run apt-get update?)", profile.package_regex));

    KernelPackage k;
    k.package = newest(matching);
    std::optional<fs::path> deb = find_deb(cache, k.package);
    if (!deb) {
        spdlog::info("downloading {} into {}", k.package, cache.string()); // progress: minutes, at times
        const std::vector<std::string> download = {"apt-get", "download", "-q", k.package};
        CommandOptions in_cache;
        in_cache.cwd = cache;
        in_cache.stdout_file = cache / "apt-get-download.log";
        if (run_command(download, in_cache).status != 0)
            return unexpected(fmt::format("{} failed (log: {})", command_text(download),
                                          (cache / "apt-get-download.log").string()));
        deb = find_deb(cache, k.package);
        if (!deb)
            return unexpected(fmt::format("apt-get download left no {}_*.deb in {}", k.package, cache.string()));
    }
    k.version = deb_version(deb->filename().string());
    k.root = cache / k.package;
    if (!fs::exists(k.root / ".unpacked")) {
        const fs::path partial = cache / (k.package + ".partial");
        fs::remove_all(partial, ec);
        if (run_command({"dpkg-deb", "-x", deb->string(), partial.string()}).status != 0)
            return unexpected(fmt::format("dpkg-deb -x {} failed", deb->string()));
        fs::remove_all(k.root, ec);
        fs::rename(partial, k.root, ec);
        if (ec)
            return unexpected(fmt::format("cannot move {} into place: {}", partial.string(), ec.message()));
        std::FILE* stamp = std::fopen((k.root / ".unpacked").c_str(), "w");
        if (stamp)
            std::fclose(stamp);
    }
    for (const auto& e : fs::directory_iterator(k.root / "boot", ec))
        if (e.path().filename().string().rfind("vmlinuz-", 0) == 0) {
            k.vmlinuz = e.path();
            k.release = e.path().filename().string().substr(std::strlen("vmlinuz-"));
        }
    if (k.vmlinuz.empty() || !fs::is_directory(k.root / "lib/modules" / k.release))
        return unexpected(fmt::format("{} holds no boot/vmlinuz-* with its lib/modules folder", k.package));
    return k;
}

} // namespace viommu::system::truth
