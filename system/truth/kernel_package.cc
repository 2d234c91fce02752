#include "system/truth/kernel_package.h"

#include <cstring>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "system/truth/debian_package.h"
#include "system/truth/host_command.h"

namespace viommu::system::truth {
namespace fs = std::filesystem;
namespace {

using guest::profiles::Arch;

constexpr TruthProfile kProfiles[] = {
    // Debian 12's backported 6.12 kernel (bookworm-backports, then bookworm-security).
    {"debian-12-6.12", R"(^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$)", Arch::kX86_64, "qemu-system-x86_64", ""},
    // Debian 12's stock 6.1 kernel; it builds no virtio-iommu driver (CONFIG_VIRTIO_IOMMU unset).
    {"debian-12", R"(^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$)", Arch::kX86_64, "qemu-system-x86_64", ""},
    // The same two for arm64: their packages download on an amd64 host once dpkg knows the architecture
    // (dpkg --add-architecture arm64); nothing of arm64 is installed.
    {"debian-12-6.12-arm64", R"(^linux-image-6\.12\.[0-9]+\+deb12-arm64-unsigned$)", Arch::kAarch64,
     "qemu-system-aarch64", "busybox-static:arm64"},
    {"debian-12-arm64", R"(^linux-image-6\.1\.0-[0-9]+-arm64-unsigned$)", Arch::kAarch64, "qemu-system-aarch64",
     "busybox-static:arm64"},
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
    auto unpacked = fetch_package(k.package, cache);
    if (!unpacked)
        return unexpected(unpacked.error());
    k.version = unpacked->version;
    k.root = unpacked->root;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(k.root / "boot", ec))
        if (e.path().filename().string().rfind("vmlinuz-", 0) == 0) {
            k.vmlinuz = e.path();
            k.release = e.path().filename().string().substr(std::strlen("vmlinuz-"));
        }
    if (k.vmlinuz.empty() || !fs::is_directory(k.root / "lib/modules" / k.release))
        return unexpected(fmt::format("{} holds no boot/vmlinuz-* with its lib/modules folder", k.package));
    return k;
}

Expected<fs::path, std::string> guest_busybox(const TruthProfile& profile, const fs::path& cache)
{
    if (profile.busybox_package.empty())
        return fs::path("/bin/busybox");
    auto unpacked = fetch_package(std::string(profile.busybox_package), cache);
    if (!unpacked)
        return unexpected(unpacked.error());
    return unpacked->root / "bin" / "busybox";
}

} // namespace viommu::system::truth
