// A hostdev's host IOMMU constraints through a whole boot: the page mask the guest's driver reads, the
// reserved regions its group gets, the refusal of a guest QEMU would not start, the board's admission
// check of a hostdev added once the machine runs, and viommu's experimental non-coherent extension as
// VFIO's coherency rule (e8ae0e140c05) meets it.
#include <catch2/catch.hpp>

#include "guest-model/kernel/errno.h"
#include "system/boot/board.h"
#include "hw/virtio-iommu/wire.h"
#include "system/boot/guest.h"
#include "tests/support/boot_reports.h"
#include "tests/support/guest_specs.h"

using namespace viommu;
using namespace viommu::system::boot;
using hw::virtio_iommu::HostIommuConstraints;
using hw::virtio_iommu::ResvMemSubtype;
using viommu::test::device;
using viommu::test::SpecBuilder;

namespace {

guest::profiles::Profile profile(const std::string& name)
{
    auto p = guest::profiles::Profile::load(name);
    REQUIRE(p);
    return *p;
}

bool has(const std::vector<std::string>& lines, std::string_view text)
{
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

HostIommuConstraints host(uint64_t page_sizes)
{
    HostIommuConstraints h;
    h.page_size_mask = page_sizes;
    return h;
}

// An arm64 virt guest (GICv3 ITS: VFIO admits without unsafe interrupts) with hostdevs at 00:06.0 and
// 00:07.0, the first with the host IOMMU h.
SpecBuilder arm64_hostdevs(const HostIommuConstraints& h, bool extension)
{
    SpecBuilder b(3, Arch::kAarch64);
    b.at(b.hostdev(6)).host_iommu = h;
    b.hostdev(7);
    b.spec().iommu.x_noncoherent = extension;
    return b;
}

HostIommuConstraints noncoherent()
{
    HostIommuConstraints h;
    h.coherent = false;
    return h;
}

} // namespace

TEST_CASE("A hostdev's host page sizes narrow the page mask the guest's driver reads", "[boot][host-iommu]")
{
    SpecBuilder b;
    b.at(b.hostdev(6)).host_iommu = host(0x40201000);
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    CHECK(r.dmesg.find("page mask: 0x40201000") != std::string::npos);
}

TEST_CASE("A hostdev's host reserved regions and address width join its group's reserved regions",
          "[boot][host-iommu]")
{
    SpecBuilder b;
    HostIommuConstraints h;
    h.aw_bits = 48;
    h.reserved = {{{Iova(0x10000000), Iova(0x1fffffff)}, ResvMemSubtype::kReserved}};
    b.at(b.hostdev(6)).host_iommu = h;
    b.hostdev(7);
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    CHECK(device(r, "0000:00:06.0").reserved_regions ==
          std::vector<std::string>{"0x0000000010000000 0x000000001fffffff reserved",
                                   "0x00000000fee00000 0x00000000feefffff msi",
                                   "0x0001000000000000 0xffffffffffffffff reserved"});
    CHECK(device(r, "0000:00:07.0").reserved_regions ==
          std::vector<std::string>{"0x00000000fee00000 0x00000000feefffff msi"});
}

TEST_CASE("Under QEMU 7.2 the host's reserved regions do not reach the guest, and the report says so",
          "[boot][host-iommu]")
{
    SpecBuilder b;
    HostIommuConstraints h;
    h.reserved = {{{Iova(0x10000000), Iova(0x1fffffff)}, ResvMemSubtype::kReserved}};
    b.at(b.hostdev(6)).host_iommu = h;
    b.spec().iommu.device_profile = "qemu-7.2";
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    CHECK(device(r, "0000:00:06.0").reserved_regions ==
          std::vector<std::string>{"0x00000000fee00000 0x00000000feefffff msi"});
    CHECK(has(r.warnings, "hostdev: QEMU 7.2 learns no reserved regions or address width of the host from VFIO"));
}

TEST_CASE("A host page mask with no size in common is refused before the boot, as QEMU refuses to start",
          "[boot][host-iommu]")
{
    SpecBuilder b;
    b.at(b.hostdev(6)).host_iommu = host(0x800);
    b.spec().iommu.device_profile = "qemu-7.2";
    const auto problems = iommu_option_problems(b.spec(), {});
    REQUIRE(problems.size() == 1);
    CHECK(problems.front() == "hostdev: its host IOMMU cannot sit behind the virtio-iommu under device profile "
                              "qemu-7.2: virtio-iommu page mask 0xfffffffffffff000 is incompatible with mask 0x800");
    CHECK_THROWS_AS(boot_guest(b.spec(), profile("debian-12-6.12")), std::invalid_argument);
}

TEST_CASE("Once the machine runs, the board refuses a hot-plugged hostdev whose granule does not fit, with QEMU's "
          "reason, and admits one that fits",
          "[boot][host-iommu][hotplug]")
{
    SpecBuilder b;
    b.at(b.hostdev(6)).host_iommu = host(0x40201000);
    system::machine::Machine machine;
    Board board(b.spec(), machine, hw::virtio_iommu::find_device_profile("qemu-7.2")->behaviour);
    const auto refused = board.admit_hotplugged_hostdev(0x0008 << 3, host(~uint64_t{0xffff}));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == "virtio-iommu page mask 0x40201000 is incompatible with mask 0xffffffffffff0000");
    const auto admitted = board.admit_hotplugged_hostdev(0x0009 << 3, host(0x201000));
    REQUIRE(admitted);
    CHECK(*admitted == std::vector<std::string>{"virtio-iommu page mask 0x40201000 does not match 0x201000"});
    CHECK(board.iommu()->config().page_size_mask == 0x40201000);
}

TEST_CASE("Extension off: a non-coherent hostdev is admitted by VFIO as today, and the report says the guest cannot "
          "tell",
          "[boot][host-iommu][x-noncoherent]")
{
    const GuestReport r = boot_guest(arm64_hostdevs(noncoherent(), false).spec(), profile("6.12-arm64"));
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK(d.vfio->admitted);
    CHECK(has(r.warnings, "does not offer the experimental non-coherent extension"));
    CHECK_FALSE(r.iommu.features & virtio::feature(hw::virtio_iommu::wire::kFXNoncoherent));
}

TEST_CASE("Extension on: VFIO refuses the non-coherent hostdev by its coherency rule and admits the coherent one",
          "[boot][host-iommu][x-noncoherent]")
{
    const GuestReport r = boot_guest(arm64_hostdevs(noncoherent(), true).spec(), profile("6.12-arm64"));
    CHECK(r.iommu.features & virtio::feature(hw::virtio_iommu::wire::kFXNoncoherent));
    const DeviceReport& refused = device(r, "0000:00:06.0");
    REQUIRE(refused.vfio);
    CHECK_FALSE(refused.vfio->admitted);
    CHECK(refused.vfio->stage == guest::vfio::Stage::kBind);
    CHECK(refused.vfio->rule == guest::vfio::Rule::kRequiresCacheCoherency);
    CHECK(refused.vfio->error == guest::kernel::kEINVAL);
    CHECK(refused.vfio->commit.rfind("e8ae0e140c05", 0) == 0);
    CHECK_THAT(refused.vfio->reason, Catch::Contains("not cache-coherent"));
    const DeviceReport& admitted = device(r, "0000:00:07.0");
    REQUIRE(admitted.vfio);
    CHECK(admitted.vfio->admitted);
}

TEST_CASE("Extension on but the host coherent: VFIO admits", "[boot][host-iommu][x-noncoherent]")
{
    const GuestReport r = boot_guest(arm64_hostdevs(HostIommuConstraints{}, true).spec(), profile("6.12-arm64"));
    REQUIRE(device(r, "0000:00:06.0").vfio);
    CHECK(device(r, "0000:00:06.0").vfio->admitted);
}

TEST_CASE("A driver that does not negotiate the extension gets no mark: VFIO admits the non-coherent hostdev",
          "[boot][host-iommu][x-noncoherent]")
{
    BootOptions stock;
    stock.driver_x_noncoherent = false;
    const GuestReport r = boot_guest(arm64_hostdevs(noncoherent(), true).spec(), profile("6.12-arm64"), stock);
    CHECK_FALSE(r.iommu.features & virtio::feature(hw::virtio_iommu::wire::kFXNoncoherent));
    REQUIRE(device(r, "0000:00:06.0").vfio);
    CHECK(device(r, "0000:00:06.0").vfio->admitted);
}
