// A package from Debian's archive, for the real boot: `apt-get download` into a cache directory (never
// installed, so a foreign architecture's package, "busybox-static:arm64", is as good as a native one),
// then `dpkg-deb -x` into a folder of the cache, each once.
#pragma once

#include <filesystem>
#include <string>

#include "base/expected.h"

namespace viommu::system::truth {

struct UnpackedPackage {
    std::string version;         // the package's version, "6.12.118-1~deb12u1"
    std::filesystem::path root;  // where it is unpacked
};

// `package` is apt's name, with ":ARCH" for another architecture's. Downloads it unless a .deb of it is
// in the cache already, and unpacks it unless that was done.
Expected<UnpackedPackage, std::string> fetch_package(const std::string& package, const std::filesystem::path& cache);

// "6.12.118-1~deb12u1" from "PKG_6.12.118-1~deb12u1_amd64.deb" (apt writes ':' of an epoch as %3a).
std::string deb_version(const std::string& file_name);

} // namespace viommu::system::truth
