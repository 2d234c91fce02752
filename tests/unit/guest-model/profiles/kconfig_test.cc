// A kernel's own .config (or /proc/config.gz) as a profile: the header names the release, the file
// decides the configuration the model reads.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "guest-model/profiles/gzip_text.h"
#include "guest-model/profiles/kconfig.h"
#include "guest-model/profiles/kernel_argument.h"
#include "guest-model/profiles/profile.h"

using namespace viommu::guest::profiles;

namespace {

// The start of Debian 12's /boot/config-6.1.0-18-amd64, and the symbols the model reads from it.
constexpr const char* kDebian61 = "#\n"
                                  "# Automatically generated file; DO NOT EDIT.\n"
                                  "# Linux/x86 6.1.76 Kernel Configuration\n"
                                  "#\n"
                                  "CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"\n"
                                  "CONFIG_X86_64=y\n"
                                  "CONFIG_MODULES=y\n"
                                  "CONFIG_LOCALVERSION=\"\"\n"
                                  "CONFIG_VIRTIO_PCI=m\n"
                                  "# CONFIG_VIRTIO_IOMMU is not set\n"
                                  "CONFIG_VFIO=m\n"
                                  "# CONFIG_VFIO_NOIOMMU is not set\n"
                                  "CONFIG_IOMMU_DEFAULT_DMA_LAZY=y\n"
                                  "# CONFIG_IOMMU_DEFAULT_DMA_STRICT is not set\n"
                                  "# CONFIG_IOMMU_DEFAULT_PASSTHROUGH is not set\n"
                                  "CONFIG_NR_CPUS=8192\n";

std::string with(std::string text, const std::string& line)
{
    return text + line + "\n";
}

std::string temp_file(const std::string& name, const std::string& bytes)
{
    const auto dir = std::filesystem::temp_directory_path() / "viommu-kconfig-test";
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
}

} // namespace

TEST_CASE("a .config's header names the release and the architecture", "[unit][profiles]")
{
    const auto config = parse_kconfig(kDebian61, "config-6.1.0-18-amd64");
    REQUIRE(config);
    CHECK(config->version == KernelVersion{6, 1, 76});
    CHECK(config->arch == Arch::kX86_64);
    const auto arm = parse_kconfig("# Linux/arm64 6.12.0-rc3 Kernel Configuration\nCONFIG_ARM64=y\n", "c");
    REQUIRE(arm);
    CHECK(arm->version == KernelVersion{6, 12, 0});
    CHECK(arm->arch == Arch::kAarch64);
}

TEST_CASE("a .config's values: y, m, not set, numbers and unquoted strings", "[unit][profiles]")
{
    const auto config = parse_kconfig(kDebian61, "c");
    REQUIRE(config);
    CHECK(config->symbols.at("CONFIG_VFIO") == "m");
    CHECK(config->symbols.at("CONFIG_X86_64") == "y");
    CHECK(config->symbols.at("CONFIG_VIRTIO_IOMMU") == "n");
    CHECK(config->symbols.at("CONFIG_NR_CPUS") == "8192");
    CHECK(config->symbols.at("CONFIG_CC_VERSION_TEXT") == "gcc-12 (Debian 12.2.0-14) 12.2.0");
    CHECK(config->symbols.at("CONFIG_LOCALVERSION").empty());
}

TEST_CASE("a file that is not a kernel configuration is refused with the line", "[unit][profiles]")
{
    CHECK(parse_kconfig(with(kDebian61, "VFIO=m"), "c").error() ==
          "c: line 17: neither CONFIG_NAME=VALUE nor a comment, so not a kernel configuration");
    CHECK(parse_kconfig("CONFIG_X86_64=y\n", "c").error().find("no \"# Linux/ARCH VERSION Kernel Configuration\"") !=
          std::string::npos);
    CHECK(parse_kconfig("# Linux/x86 6.1.0 Kernel Configuration\n", "c").error().find("without CONFIG_X86_64 (32-bit)") !=
          std::string::npos);
    CHECK(parse_kconfig("# Linux/riscv 6.1.0 Kernel Configuration\n", "c").error() ==
          "c: a kernel for riscv; viommu models x86_64 and arm64 (aarch64) guests");
    CHECK_FALSE(parse_kconfig(with(kDebian61, "CONFIG_X=\"unterminated"), "c"));
}

TEST_CASE("a profile JSON document does not read as a kernel configuration", "[unit][profiles]")
{
    CHECK(looks_like_kconfig(kDebian61));
    CHECK(looks_like_kconfig("\n\nCONFIG_X=y\n"));
    CHECK_FALSE(looks_like_kconfig("{\"name\": \"x\", \"version\": \"6.1\"}"));
}

TEST_CASE("the configuration decides every symbol the built-in profiles set; absent is not set", "[unit][profiles]")
{
    const auto p = Profile::from_kconfig(*parse_kconfig(kDebian61, "c"), "config-6.1.0-18-amd64");
    REQUIRE(p);
    CHECK(p->name() == "config-6.1.0-18-amd64");
    CHECK(p->version() == KernelVersion{6, 1, 76});
    CHECK(p->arch() == Arch::kX86_64);
    CHECK(p->config("CONFIG_VIRTIO_IOMMU") == "n");
    CHECK(p->config("CONFIG_VIRTIO_PCI") == "m");
    CHECK(p->config("CONFIG_ACPI_VIOT") == "n");        // absent from the file
    CHECK(p->config("CONFIG_SYMBOLIC_ERRNAME") == "n"); // set by the defaults, absent from the file
    CHECK(p->config("CONFIG_IOMMU_DEFAULT_DMA_LAZY") == "y");
}

TEST_CASE("the PCI drivers the model reads are built as the file says; one it leaves out is not built",
          "[unit][profiles]")
{
    const auto p = Profile::from_kconfig(
        *parse_kconfig(with(with(kDebian61, "CONFIG_E1000E=y"), "CONFIG_SATA_AHCI=m"), "c"), "c");
    REQUIRE(p);
    CHECK(p->config("CONFIG_E1000E") == "y");
    CHECK(p->config("CONFIG_SATA_AHCI") == "m");
    CHECK(p->config("CONFIG_LPC_ICH") == "n"); // the built-in profiles set it: the file decides it
}

TEST_CASE("symbols a release does not have keep the release's behaviour when absent", "[unit][profiles]")
{
    // 6.1 has no CONFIG_VFIO_CONTAINER (e5a9ec7e096a, v6.2): the container is always built.
    const auto p = Profile::from_kconfig(*parse_kconfig(kDebian61, "c"), "c");
    REQUIRE(p);
    CHECK_FALSE(p->config("CONFIG_VFIO_CONTAINER"));
    // 5.10 has no strict/lazy choice: the architecture's default applies.
    const auto old = Profile::from_kconfig(*parse_kconfig("# Linux/arm64 5.10.0 Kernel Configuration\n", "c"), "c");
    REQUIRE(old);
    CHECK_FALSE(old->config("CONFIG_IOMMU_DEFAULT_DMA_STRICT"));
}

TEST_CASE("gzip-compressed text inflates; a truncated stream is refused", "[unit][profiles]")
{
    // gzip.compress(b"# Linux/arm64 6.12.0 Kernel Configuration\nCONFIG_ARM64=y\n", mtime=0)
    const std::string gz("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x53\x56\xf0\xc9\xcc\x2b\xad\xd0\x4f\x2c\xca\x35"
                         "\x33\x51\x30\xd3\x33\x34\xd2\x33\x50\xf0\x4e\x2d\xca\x4b\xcd\x51\x70\xce\xcf\x4b\xcb\x4c"
                         "\x2f\x2d\x4a\x2c\xc9\xcc\xcf\xe3\x72\xf6\xf7\x73\xf3\x74\x8f\x77\x0c\xf2\x35\x33\xb1\xad"
                         "\xe4\x02\x00\x25\x38\x81\xf9\x39\x00\x00\x00",
                         77);
    CHECK(is_gzip(gz));
    CHECK(gunzip(gz, 1 << 20).value() == "# Linux/arm64 6.12.0 Kernel Configuration\nCONFIG_ARM64=y\n");
    CHECK(gunzip(gz.substr(0, 40), 1 << 20).error() == "not a complete gzip stream");
    CHECK(gunzip(gz, 16).error().find("inflates to more than") == 0);
    CHECK_FALSE(is_gzip(kDebian61));
}

TEST_CASE("--kernel takes a configuration file, plain or gzip, and says what it read", "[unit][profiles]")
{
    const auto plain = resolve_kernel_argument(temp_file("config-6.1.0-18-amd64", kDebian61));
    REQUIRE(plain);
    CHECK(plain->profile.name() == "config-6.1.0-18-amd64");
    CHECK(plain->profile.config("CONFIG_VIRTIO_IOMMU") == "n");
    CHECK(plain->how.find("is the configuration of Linux 6.1.76 for x86_64 (its header)") != std::string::npos);
    CHECK(plain->how.find("CONFIG_VIRTIO_IOMMU=n") != std::string::npos);
    const auto json = resolve_kernel_argument(temp_file("profile.json", R"({"name": "mine", "base": "6.1"})"));
    REQUIRE(json);
    CHECK(json->profile.name() == "mine");
    CHECK(json->how.empty());
}

TEST_CASE("--kernel takes a uname release and says which profile it chose", "[unit][profiles]")
{
    const auto choice = resolve_kernel_argument("6.1.0-18-amd64");
    REQUIRE(choice);
    CHECK(choice->profile.name() == "debian-12");
    CHECK(choice->how == "6.1.0-18-amd64 is Debian 12's 6.1 kernel for x86_64: profile debian-12");
    CHECK(resolve_kernel_argument("debian-12")->how.empty());
    CHECK(resolve_kernel_argument("not-a-kernel").error().find("not a release as `uname -r` prints it") !=
          std::string::npos);
}
