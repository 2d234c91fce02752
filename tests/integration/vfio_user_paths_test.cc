// The guest's user on each VFIO path (type1, iommufd-compat, the iommufd cdev) through the whole
// stack, on kernels before and after the path exists: the stage, errno, rule and log line of each
// verdict (docs/vfio-admission.md, "User paths"). One TEST_CASE per rule.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "guest-model/kernel/errno.h"
#include "system/boot/guest.h"
#include "tests/support/configured_profile.h"
#include "tests/support/guest_specs.h"

using namespace viommu;
using namespace viommu::guest;
using namespace viommu::guest::kernel;
using namespace viommu::system::boot;
using guest::profiles::Profile;
using guest::vfio::Backend;
using guest::vfio::Rule;
using guest::vfio::Stage;
using viommu::test::SpecBuilder;
using viommu::test::configured;
using viommu::test::with_iommufd;

namespace {

constexpr const char* kBdf = "0000:00:06.0";

Profile named(const std::string& name)
{
    auto p = Profile::load(name);
    REQUIRE(p);
    return *p;
}

// One hostdev on an x86 q35 (no interrupt remapping), assigned on the given path.
GuestReport assign(const Profile& profile, Backend path, bool iommufd_unsafe = false, bool type1_unsafe = false)
{
    SpecBuilder b;
    b.hostdev(6);
    b.spec().cmdline.iommufd_allow_unsafe_interrupts = iommufd_unsafe;
    b.spec().cmdline.allow_unsafe_interrupts = type1_unsafe;
    BootOptions options;
    options.vfio_user = path;
    return boot_guest(b.spec(), profile, options);
}

// A copy: callers pass the report of a boot they do not keep.
vfio::Verdict verdict(const GuestReport& r)
{
    for (const DeviceReport& d : r.devices)
        if (d.bdf == kBdf && d.vfio)
            return *d.vfio;
    FAIL("no VFIO verdict for " << kBdf);
    throw 0;
}

bool logged(const GuestReport& r, const std::string& text)
{
    return r.dmesg.find(text) != std::string::npos;
}

} // namespace

TEST_CASE("The report names the run's user path; --vfio-user overrides the description", "[boot][vfio][paths]")
{
    CHECK(assign(named("6.12"), Backend::kType1Container).vfio_user == Backend::kType1Container);
    CHECK(assign(named("6.12"), Backend::kIommufdCompat).vfio_user == Backend::kIommufdCompat);
    SpecBuilder b;
    b.hostdev(6);
    b.spec().vfio_backend = Backend::kIommufd;
    CHECK(boot_guest(b.spec(), named("6.12")).vfio_user == Backend::kIommufd);
}

TEST_CASE("iommufd-compat before v6.2 (d624d6652a65): open /dev/iommu fails with ENOENT", "[boot][vfio][paths]")
{
    const vfio::Verdict v = verdict(assign(named("6.1"), Backend::kIommufdCompat));
    CHECK_FALSE(v.admitted);
    CHECK(v.stage == Stage::kOpenIommufd);
    CHECK(v.error == kENOENT);
    CHECK(v.rule == Rule::kIommufdVfioCompat);
}

TEST_CASE("iommufd-compat on Debian 12's 6.12, which leaves CONFIG_IOMMUFD unset: ENOENT", "[boot][vfio][paths]")
{
    const vfio::Verdict v = verdict(assign(named("debian-12-6.12"), Backend::kIommufdCompat));
    CHECK(v.stage == Stage::kOpenIommufd);
    CHECK(v.error == kENOENT);
    CHECK(v.reason.find("CONFIG_IOMMUFD is not set") != std::string::npos);
}

TEST_CASE("iommufd-compat from 6.6: VFIO_GROUP_GET_DEVICE_FD's bind refuses unisolated MSIs with EPERM, silently",
          "[boot][vfio][paths]")
{
    const GuestReport r = assign(with_iommufd("6.12"), Backend::kIommufdCompat);
    const vfio::Verdict v = verdict(r);
    CHECK_FALSE(v.admitted);
    CHECK(v.stage == Stage::kGetDeviceFd);
    CHECK(v.error == kEPERM);
    CHECK(v.rule == Rule::kIommufdIsolatedMsiAtBind);
    CHECK(v.log.empty());
    CHECK_FALSE(logged(r, "No interrupt remapping support"));
    CHECK_FALSE(logged(r, "IOMMUFD is providing /dev/vfio/vfio")); // the container is /dev/iommu here
}

TEST_CASE("iommufd-compat from 6.2 to 6.5 checks MSIs when attaching, still inside VFIO_GROUP_GET_DEVICE_FD",
          "[boot][vfio][paths]")
{
    const vfio::Verdict v = verdict(assign(with_iommufd("6.3"), Backend::kIommufdCompat));
    CHECK(v.stage == Stage::kGetDeviceFd);
    CHECK(v.error == kEPERM);
    CHECK(v.rule == Rule::kIommufd);
}

TEST_CASE("iommufd-compat obeys iommufd.allow_unsafe_interrupts, not vfio_iommu_type1's", "[boot][vfio][paths]")
{
    CHECK_FALSE(verdict(assign(with_iommufd("6.12"), Backend::kIommufdCompat, false, true)).admitted);
    const GuestReport r = assign(with_iommufd("6.12"), Backend::kIommufdCompat, true, false);
    CHECK(verdict(r).admitted);
    CHECK(verdict(r).unsafe);
    CHECK(logged(r, "vfio-pci 0000:00:06.0: MSI interrupts are not secure, they cannot be isolated by the platform."));
}

TEST_CASE("iommufd providing /dev/vfio/vfio says so once, and a type1 user there meets iommufd's rules",
          "[boot][vfio][paths]")
{
    const Profile p = configured("6.12", R"("CONFIG_IOMMUFD": "y", "CONFIG_VFIO_CONTAINER": "n",
                                           "CONFIG_IOMMUFD_VFIO_CONTAINER": "y")");
    const GuestReport r = assign(p, Backend::kType1Container, false, true);
    CHECK(logged(r, "iommufd: IOMMUFD is providing /dev/vfio/vfio, not VFIO."));
    const vfio::Verdict v = verdict(r);
    CHECK_FALSE(v.admitted); // vfio_iommu_type1.allow_unsafe_interrupts does not exist there
    CHECK(v.stage == Stage::kGetDeviceFd);
    CHECK(v.reason.find("iommufd's compat container") != std::string::npos);
}

TEST_CASE("type1 without any /dev/vfio/vfio (CONFIG_VFIO_CONTAINER=n, iommufd's not built): ENOENT",
          "[boot][vfio][paths]")
{
    const Profile p = configured("6.12", R"("CONFIG_IOMMUFD": "y", "CONFIG_VFIO_CONTAINER": "n",
                                           "CONFIG_IOMMUFD_VFIO_CONTAINER": "n", "CONFIG_VFIO_DEVICE_CDEV": "y")");
    const vfio::Verdict v = verdict(assign(p, Backend::kType1Container));
    CHECK(v.stage == Stage::kOpenContainer);
    CHECK(v.error == kENOENT);
    CHECK(v.rule == Rule::kVfioContainer);
}

TEST_CASE("the iommufd cdev before v6.6 (5fcc26969a16): open /dev/vfio/devices/vfioN fails with ENOENT",
          "[boot][vfio][paths]")
{
    // 6.5 with iommufd built: the release has no cdev, whatever the configuration says (a warning).
    const GuestReport r = assign(with_iommufd("6.5"), Backend::kIommufd);
    const vfio::Verdict v = verdict(r);
    CHECK(v.stage == Stage::kOpenDeviceCdev);
    CHECK(v.error == kENOENT);
    CHECK(v.rule == Rule::kDeviceCdev);
    CHECK(v.reason.find("v6.6") != std::string::npos);
    bool warned = false;
    for (const std::string& w : r.warnings)
        warned = warned || w.find("CONFIG_VFIO_DEVICE_CDEV") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("the iommufd cdev on Debian 12's 6.12 (no CONFIG_IOMMUFD): ENOENT", "[boot][vfio][paths]")
{
    const vfio::Verdict v = verdict(assign(named("debian-12-6.12"), Backend::kIommufd));
    CHECK(v.stage == Stage::kOpenDeviceCdev);
    CHECK(v.error == kENOENT);
    CHECK(v.reason.find("depends on CONFIG_IOMMUFD") != std::string::npos);
}

TEST_CASE("the iommufd cdev on 6.12 x86: VFIO_DEVICE_BIND_IOMMUFD refuses unisolated MSIs with EPERM, silently",
          "[boot][vfio][paths]")
{
    const GuestReport r = assign(with_iommufd("6.12"), Backend::kIommufd);
    const vfio::Verdict v = verdict(r);
    CHECK_FALSE(v.admitted);
    CHECK(v.stage == Stage::kIommufdBind);
    CHECK(v.error == kEPERM);
    CHECK(v.rule == Rule::kIommufdIsolatedMsiAtBind);
    CHECK_FALSE(logged(r, "MSI interrupts are not secure"));
}

TEST_CASE("the iommufd cdev with iommufd.allow_unsafe_interrupts=1 admits, with the kernel's warning",
          "[boot][vfio][paths]")
{
    const GuestReport r = assign(with_iommufd("6.12"), Backend::kIommufd, true);
    CHECK(verdict(r).admitted);
    CHECK(verdict(r).unsafe);
    CHECK(logged(r, "vfio-pci 0000:00:06.0: MSI interrupts are not secure, they cannot be isolated by the platform."));
}

TEST_CASE("only type1 probes fine-grained superpages: iommufd's paths send fewer requests", "[boot][vfio][paths]")
{
    // vfio_test_domain_fgsp() maps and unmaps two pages at IOVA 0 (one MAP, one UNMAP); iommufd does not.
    const Profile p = with_iommufd("6.12");
    const GuestReport type1 = assign(p, Backend::kType1Container, true, true);
    const GuestReport compat = assign(p, Backend::kIommufdCompat, true, true);
    REQUIRE(verdict(type1).admitted);
    REQUIRE(verdict(compat).admitted);
    CHECK(type1.iommu.requests == compat.iommu.requests + 2);
}
