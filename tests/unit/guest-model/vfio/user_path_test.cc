// The three VFIO user paths: the device node each opens first, who answers the container ioctls, and
// the stage in which iommufd binds and attaches the device. One TEST_CASE per rule.
#include <catch2/catch.hpp>

#include "guest-model/kernel/errno.h"
#include "guest-model/vfio/gate_behaviour.h"
#include "guest-model/vfio/user_path.h"
#include "tests/support/behaviour.h"

using namespace viommu::guest;
using vfio::Backend;
using vfio::Rule;
using vfio::Stage;
using vfio::UserPathConfig;

namespace {

constexpr auto resolve = viommu::test::resolve_behaviour<vfio::GateBehaviour>;

UserPathConfig legacy_only()
{
    return {}; // VFIO's container, no iommufd: every built-in profile
}

UserPathConfig with_iommufd(bool cdev, bool iommufd_container = false)
{
    UserPathConfig c;
    c.iommufd = true;
    c.device_cdev = cdev;
    c.iommufd_vfio_container = iommufd_container;
    c.vfio_container = !iommufd_container;
    return c;
}

} // namespace

TEST_CASE("the paths are named as --vfio-user and <viommu:vfio backend> spell them", "[unit][vfio]")
{
    for (Backend b : {Backend::kType1Container, Backend::kIommufdCompat, Backend::kIommufd}) {
        INFO(vfio::backend_name(b));
        CHECK(vfio::backend_named(vfio::backend_name(b)) == b);
    }
    CHECK(std::string(vfio::backend_name(Backend::kIommufdCompat)) == "iommufd-compat");
    CHECK_FALSE(vfio::backend_named("vfio"));
    CHECK_FALSE(vfio::backend_named(""));
}

TEST_CASE("type1 opens VFIO's /dev/vfio/vfio, in every release that builds VFIO", "[unit][vfio]")
{
    CHECK_FALSE(vfio::open_refusal(Backend::kType1Container, legacy_only(), resolve("4.19")));
    CHECK_FALSE(vfio::open_refusal(Backend::kType1Container, legacy_only(), resolve("6.12")));
    CHECK(vfio::answering(Backend::kType1Container, legacy_only()) == Backend::kType1Container);
}

TEST_CASE("type1 without any /dev/vfio/vfio (CONFIG_VFIO_CONTAINER=n, no iommufd's) fails to open it", "[unit][vfio]")
{
    UserPathConfig c = with_iommufd(true);
    c.vfio_container = false;
    const auto v = vfio::open_refusal(Backend::kType1Container, c, resolve("6.12"));
    REQUIRE(v);
    CHECK(v->stage == Stage::kOpenContainer);
    CHECK(v->rule == Rule::kVfioContainer);
    CHECK(v->error == kernel::kENOENT);
}

TEST_CASE("a type1 user gets iommufd's compat container where iommufd provides /dev/vfio/vfio", "[unit][vfio]")
{
    const UserPathConfig c = with_iommufd(false, true);
    CHECK_FALSE(vfio::open_refusal(Backend::kType1Container, c, resolve("6.12")));
    CHECK(vfio::answering(Backend::kType1Container, c) == Backend::kIommufdCompat);
}

TEST_CASE("iommufd-compat before v6.2 (d624d6652a65): no /dev/iommu, ENOENT", "[unit][vfio]")
{
    const auto v = vfio::open_refusal(Backend::kIommufdCompat, legacy_only(), resolve("6.1"));
    REQUIRE(v);
    CHECK(v->stage == Stage::kOpenIommufd);
    CHECK(v->rule == Rule::kIommufdVfioCompat);
    CHECK(v->error == kernel::kENOENT);
    CHECK(v->commit == "d624d6652a65");
    CHECK(v->reason.find("v6.2") != std::string::npos);
}

TEST_CASE("iommufd-compat on a release with iommufd but CONFIG_IOMMUFD unset: ENOENT, the configuration's fault",
          "[unit][vfio]")
{
    const auto v = vfio::open_refusal(Backend::kIommufdCompat, legacy_only(), resolve("6.12"));
    REQUIRE(v);
    CHECK(v->stage == Stage::kOpenIommufd);
    CHECK(v->reason.find("CONFIG_IOMMUFD is not set") != std::string::npos);
}

TEST_CASE("iommufd-compat with CONFIG_IOMMUFD from v6.2 opens its container", "[unit][vfio]")
{
    CHECK_FALSE(vfio::open_refusal(Backend::kIommufdCompat, with_iommufd(false), resolve("6.2")));
    CHECK(vfio::answering(Backend::kIommufdCompat, with_iommufd(false)) == Backend::kIommufdCompat);
}

TEST_CASE("the iommufd cdev before v6.6 (5fcc26969a16): no /dev/vfio/devices, ENOENT", "[unit][vfio]")
{
    // A 6.5 kernel cannot have the cdev whatever its configuration says.
    const auto v = vfio::open_refusal(Backend::kIommufd, with_iommufd(true), resolve("6.5"));
    REQUIRE(v);
    CHECK(v->stage == Stage::kOpenDeviceCdev);
    CHECK(v->rule == Rule::kDeviceCdev);
    CHECK(v->error == kernel::kENOENT);
    CHECK(v->commit == "5fcc26969a16");
    CHECK(v->reason.find("v6.6") != std::string::npos);
}

TEST_CASE("the iommufd cdev needs CONFIG_VFIO_DEVICE_CDEV, which needs CONFIG_IOMMUFD", "[unit][vfio]")
{
    const auto no_cdev = vfio::open_refusal(Backend::kIommufd, with_iommufd(false), resolve("6.12"));
    REQUIRE(no_cdev);
    CHECK(no_cdev->reason.find("CONFIG_VFIO_DEVICE_CDEV is not set") != std::string::npos);
    const auto no_iommufd = vfio::open_refusal(Backend::kIommufd, legacy_only(), resolve("6.12"));
    REQUIRE(no_iommufd);
    CHECK(no_iommufd->reason.find("depends on CONFIG_IOMMUFD") != std::string::npos);
    CHECK_FALSE(vfio::open_refusal(Backend::kIommufd, with_iommufd(true), resolve("6.6")));
}

TEST_CASE("iommufd binds and attaches in VFIO_GROUP_GET_DEVICE_FD on the compat container, in their own ioctls on "
          "the cdev",
          "[unit][vfio]")
{
    CHECK(vfio::iommufd_bind_stage(Backend::kIommufdCompat) == Stage::kGetDeviceFd);
    CHECK(vfio::iommufd_attach_stage(Backend::kIommufdCompat) == Stage::kGetDeviceFd);
    CHECK(vfio::iommufd_bind_stage(Backend::kIommufd) == Stage::kIommufdBind);
    CHECK(vfio::iommufd_attach_stage(Backend::kIommufd) == Stage::kIommufdAttach);
    CHECK(std::string(vfio::stage_name(Stage::kIommufdBind)) == "VFIO_DEVICE_BIND_IOMMUFD");
    CHECK(std::string(vfio::stage_name(Stage::kIommufdAttach)) == "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
}
