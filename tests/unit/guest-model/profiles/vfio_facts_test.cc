// VFIO's facts (drivers/vfio, drivers/iommu/iommufd): the admission rules and where each sits per
// release. One TEST_CASE per rule.
#include <catch2/catch.hpp>

#include "tests/unit/guest-model/profiles/decide.h"

using viommu::test::check_starts_at;
using viommu::test::decide;

TEST_CASE("no-IOMMU mode is in every profiled release (03a76b60f8ba, v4.5)", "[unit][profiles]")
{
    check_starts_at("vfio.noiommu", "4.4.302", "4.5");
    CHECK(decide("vfio.noiommu", "4.19").present);
}

TEST_CASE("no-IOMMU mode ignores whether the bus has an IOMMU from v5.19 (a77109ffca33)", "[unit][profiles]")
{
    check_starts_at("vfio.noiommu_ignores_bus_iommu", "5.18.19", "5.19");
    CHECK_FALSE(decide("vfio.noiommu_ignores_bus_iommu", "5.15.167").present);
}

TEST_CASE("VFIO requires IOMMU_CAP_CACHE_COHERENCY from v5.19 (e8ae0e140c05); 5.18.19 does not", "[unit][profiles]")
{
    check_starts_at("vfio.requires_cache_coherency", "5.18.19", "5.19");
    CHECK(decide("vfio.requires_cache_coherency", "5.19.8").commit == "e8ae0e140c05319fa47bb3bf615c3a585f404b9d");
}

TEST_CASE("no stable tree took VFIO's coherency requirement", "[unit][profiles]")
{
    for (const char* v : {"5.15.167", "5.10.200", "4.19.325"}) {
        INFO(v);
        const auto d = decide("vfio.requires_cache_coherency", v);
        CHECK_FALSE(d.present);
        CHECK(d.why.find("backport in the facts table") != std::string::npos);
    }
}

TEST_CASE("VFIO asks the device's IOMMU, not its bus's, from v6.0 (3b498b665621)", "[unit][profiles]")
{
    check_starts_at("vfio.device_iommu_capable", "5.19.17", "6.0");
}

TEST_CASE("the coherency check sits in __vfio_register_dev() from v6.6 (5398be2564eb)", "[unit][profiles]")
{
    check_starts_at("vfio.coherency_check_in_register_dev", "6.5.13", "6.6");
    CHECK_FALSE(decide("vfio.coherency_check_in_register_dev", "6.1.192").present);
}

TEST_CASE("VFIO claims the group's DMA ownership from v5.19 (70693f470848), judged viability itself before",
          "[unit][profiles]")
{
    check_starts_at("vfio.dma_ownership", "5.18.19", "5.19");
}

TEST_CASE("type1 requires isolated MSI for every device of the group from v6.3 (6b1a7a00427c)", "[unit][profiles]")
{
    check_starts_at("vfio.type1_isolated_msi", "6.2.16", "6.3");
    CHECK_FALSE(decide("vfio.type1_isolated_msi", "6.1.192").present);
}

TEST_CASE("iommufd exists from v6.2 (e8d57210035b)", "[unit][profiles]")
{
    check_starts_at("vfio.iommufd", "6.1.192", "6.2");
}

TEST_CASE("iommufd answers the type1 container ioctls from v6.2 (d624d6652a65)", "[unit][profiles]")
{
    check_starts_at("vfio.iommufd_vfio_compat", "6.1.192", "6.2");
}

TEST_CASE("VFIO devices have a cdev bound with VFIO_DEVICE_BIND_IOMMUFD from v6.6 (5fcc26969a16)", "[unit][profiles]")
{
    check_starts_at("vfio.device_cdev", "6.5.13", "6.6");
    CHECK(decide("vfio.device_cdev", "6.6").commit == "5fcc26969a16");
}

TEST_CASE("iommufd checks isolated MSI at bind, not at attach, from v6.6 (d525a5b8cf39)", "[unit][profiles]")
{
    check_starts_at("vfio.iommufd_isolated_msi_at_bind", "6.5.13", "6.6");
}
