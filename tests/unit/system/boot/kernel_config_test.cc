// What a profile's kernel can do with a virtio-iommu: the facts decide whether the driver exists for the
// architecture, the profile's configuration whether it is built, and the command line the domain policy.
#include <catch2/catch.hpp>

#include "system/boot/kernel_config.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;


using namespace viommu::system::boot;
using namespace viommu::guest;

namespace {
Profile load(const std::string& spec)
{
    auto p = Profile::load(spec);
    REQUIRE(p);
    return *p;
}
Profile user(const std::string& json)
{
    auto p = Profile::from_json(json, "test");
    INFO((p ? std::string() : p.error()));
    REQUIRE(p);
    return *p;
}
} // namespace

TEST_CASE("x86 has a virtio-iommu driver from 5.14 (8ce4904bfd22), arm64 from 5.3 (edcd69ab9a32)", "[unit][kconfig]")
{
    CHECK(resolve_kernel_config(load("5.13"), Arch::kX86_64, {}).virtio_iommu == Tristate::kNo);
    CHECK(resolve_kernel_config(load("5.14"), Arch::kX86_64, {}).virtio_iommu == Tristate::kModule);
    CHECK(resolve_kernel_config(load("5.2"), Arch::kAarch64, {}).virtio_iommu == Tristate::kNo);
    CHECK(resolve_kernel_config(load("5.3"), Arch::kAarch64, {}).virtio_iommu == Tristate::kModule);
}

TEST_CASE("A configuration the release cannot have is overridden, with a warning", "[unit][kconfig]")
{
    const KernelConfig c =
        resolve_kernel_config(user(R"({"name": "x", "version": "5.10", "config": {"CONFIG_VIRTIO_IOMMU": "y"}})"),
                              Arch::kX86_64, {});
    CHECK(c.virtio_iommu == Tristate::kNo);
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find("modelled as not set") != std::string::npos);
}

TEST_CASE("On x86 the IOMMU topology comes from ACPI VIOT (3cf485540e7b, v5.14)", "[unit][kconfig]")
{
    CHECK(resolve_kernel_config(load("6.1"), Arch::kX86_64, {}).firmware_describes);
    const KernelConfig off =
        resolve_kernel_config(user(R"({"name": "x", "version": "6.1", "config": {"CONFIG_ACPI_VIOT": "n"}})"),
                              Arch::kX86_64, {});
    CHECK_FALSE(off.firmware_describes);
    CHECK(off.why_no_iommu.find("CONFIG_ACPI_VIOT") != std::string::npos);
}

TEST_CASE("On arm64 the device tree describes the IOMMU from 5.3, ACPI VIOT only from 5.14 (3cf485540e7b)",
          "[unit][kconfig]")
{
    const Profile v510 = load("5.10-arm64");
    const KernelConfig dt = resolve_kernel_config(v510, Arch::kAarch64, FirmwareTables::kDeviceTree, {});
    CHECK(dt.virtio_iommu == Tristate::kModule);
    CHECK(dt.firmware_describes);
    CHECK(dt.why_no_iommu.empty());
    // Under UEFI with ACPI the driver still builds, but nothing tells it which devices it translates.
    const KernelConfig acpi = resolve_kernel_config(v510, Arch::kAarch64, FirmwareTables::kAcpi, {});
    CHECK(acpi.virtio_iommu == Tristate::kModule);
    CHECK_FALSE(acpi.firmware_describes);
    CHECK(acpi.why_no_iommu.find("Linux 5.10 cannot read the ACPI VIOT table") == 0);
    CHECK(resolve_kernel_config(load("5.15-arm64"), Arch::kAarch64, FirmwareTables::kAcpi, {}).firmware_describes);
    // An arch's default tables: the device tree on arm64.
    CHECK(resolve_kernel_config(v510, Arch::kAarch64, {}).firmware_describes);
}

TEST_CASE("Debian 12's 6.1 kernel does not build the driver; its 6.12 kernel builds it as a module", "[unit][kconfig]")
{
    const KernelConfig stock = resolve_kernel_config(load("debian-12"), Arch::kX86_64, {});
    CHECK(stock.virtio_iommu == Tristate::kNo);
    CHECK(stock.why_no_iommu.find("CONFIG_VIRTIO_IOMMU") != std::string::npos);
    CHECK(resolve_kernel_config(load("debian-12-6.12"), Arch::kX86_64, {}).virtio_iommu == Tristate::kModule);
}

TEST_CASE("Lazy invalidation is the x86 default, strict elsewhere; the command line overrides both", "[unit][kconfig]")
{
    // A bare version has no CONFIG_IOMMU_DEFAULT_*: the Kconfig default of the architecture applies
    // ("default IOMMU_DEFAULT_DMA_LAZY if X86 || ..." since 5.15).
    CHECK_FALSE(resolve_kernel_config(load("6.12.1"), Arch::kX86_64, {}).strict);
    CHECK(resolve_kernel_config(load("6.12.1"), Arch::kAarch64, {}).strict);
    KernelCmdline cmdline;
    cmdline.strict = true;
    cmdline.passthrough = true;
    const KernelConfig c = resolve_kernel_config(load("6.12"), Arch::kX86_64, cmdline);
    CHECK(c.strict);
    CHECK(c.strict_cmdline);
    CHECK(c.passthrough);
    CHECK(c.passthrough_cmdline);
}

namespace {
// The VFIO user paths of a user profile on x86, which must carry exactly one warning, about `symbol`.
viommu::guest::vfio::UserPathConfig paths_warning_once(const std::string& json, const std::string& symbol)
{
    const KernelConfig c = resolve_kernel_config(user(json), Arch::kX86_64, {});
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find(symbol) != std::string::npos);
    return c.vfio_paths;
}
} // namespace

TEST_CASE("Before 6.2 VFIO's container is always built and iommufd cannot be, whatever the profile says",
          "[unit][kconfig][vfio]")
{
    CHECK_FALSE(paths_warning_once(R"({"name": "x", "version": "6.1", "config": {"CONFIG_IOMMUFD": "y"}})",
                                   "CONFIG_IOMMUFD")
                    .iommufd);
    CHECK(paths_warning_once(R"({"name": "x", "version": "6.1", "config": {"CONFIG_VFIO_CONTAINER": "n"}})",
                             "CONFIG_VFIO_CONTAINER")
              .vfio_container);
}

TEST_CASE("From 6.2 the profile decides the VFIO device nodes; the cdev and iommufd's container need CONFIG_IOMMUFD",
          "[unit][kconfig][vfio]")
{
    const KernelConfig stock = resolve_kernel_config(load("debian-12-6.12"), Arch::kX86_64, {});
    CHECK(stock.vfio_paths.vfio_container);
    CHECK_FALSE(stock.vfio_paths.iommufd);
    CHECK_FALSE(stock.vfio_paths.device_cdev);
    const KernelConfig orphan = resolve_kernel_config(
        user(R"({"name": "x", "version": "6.12", "config": {"CONFIG_VFIO_DEVICE_CDEV": "y"}})"), Arch::kX86_64, {});
    CHECK_FALSE(orphan.vfio_paths.device_cdev);
    const KernelConfig full = resolve_kernel_config(
        user(R"({"name": "x", "version": "6.12", "config": {"CONFIG_IOMMUFD": "m", "CONFIG_VFIO_CONTAINER": "n",
               "CONFIG_IOMMUFD_VFIO_CONTAINER": "y", "CONFIG_VFIO_DEVICE_CDEV": "y"}})"),
        Arch::kX86_64, {});
    CHECK(full.vfio_paths.iommufd);
    CHECK_FALSE(full.vfio_paths.vfio_container);
    CHECK(full.vfio_paths.iommufd_vfio_container);
    CHECK(full.vfio_paths.device_cdev);
}

TEST_CASE("The VFIO device cdev set on a release before 6.6 is overridden, with a warning", "[unit][kconfig][vfio]")
{
    const auto p = paths_warning_once(
        R"({"name": "x", "version": "6.5", "config": {"CONFIG_IOMMUFD": "y", "CONFIG_VFIO_DEVICE_CDEV": "y"}})",
        "CONFIG_VFIO_DEVICE_CDEV");
    CHECK(p.iommufd);
    CHECK_FALSE(p.device_cdev);
}
