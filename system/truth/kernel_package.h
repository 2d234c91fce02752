// The real kernel a profile names, from Debian's archive: the newest package of the profile's series that
// apt knows (`apt-get download`, into a cache directory, never /boot), unpacked with dpkg-deb -x.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "guest-model/profiles/arch.h"

namespace viommu::system::truth {

// A kernel profile that can be booted for real, and the Debian package series behind it.
struct TruthProfile {
    std::string_view name;           // the viommu-boot profile ("debian-12-6.12")
    std::string_view package_regex;  // the package names of its series, newest chosen
    guest::profiles::Arch arch;      // what the kernel is built for: the guest's architecture
    std::string_view qemu;           // the emulator of that architecture
    // The busybox the guest's init runs: "" the host's own /bin/busybox (Debian's busybox-static, of the
    // guest's architecture on an amd64 host), else the Debian package of the guest's architecture.
    std::string_view busybox_package;
};

// nullptr for a profile with no Debian package series here.
const TruthProfile* truth_profile(std::string_view name);
// The names of the profiles truth_profile() knows, for messages.
std::string truth_profile_names();

struct KernelPackage {
    std::string package;            // "linux-image-6.12.118+deb12-amd64-unsigned"
    std::string version;            // the package's version, "6.12.118-1~deb12u1"
    std::filesystem::path root;     // where it is unpacked
    std::filesystem::path vmlinuz;  // root/boot/vmlinuz-RELEASE
    std::string release;            // "6.12.118+deb12-amd64" (uname -r, the modules' folder)
};

// Downloads (once) and unpacks (once) the newest package of the profile's series into cache.
Expected<KernelPackage, std::string> fetch_kernel(const TruthProfile& profile, const std::filesystem::path& cache);

// The busybox for the profile's guests (busybox_package, downloaded and unpacked into cache once).
Expected<std::filesystem::path, std::string> guest_busybox(const TruthProfile& profile,
                                                           const std::filesystem::path& cache);

// The default cache: $XDG_CACHE_HOME/viommu, else ~/.cache/viommu.
std::filesystem::path default_cache_dir();

} // namespace viommu::system::truth
