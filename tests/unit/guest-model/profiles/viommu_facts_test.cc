// The virtio-iommu driver's facts (drivers/iommu/virtio-iommu.c and ACPI VIOT): one TEST_CASE per rule,
// each at the releases where it changes.
#include <catch2/catch.hpp>

#include "tests/unit/guest-model/profiles/decide.h"

using viommu::test::check_starts_at;
using viommu::test::decide;

TEST_CASE("the virtio-iommu driver is in v5.3 and later, not in 4.19 (edcd69ab9a32)", "[unit][profiles]")
{
    check_starts_at("viommu.driver", "5.2.21", "5.3");
    CHECK_FALSE(decide("viommu.driver", "4.19.1").present);
    CHECK(decide("viommu.driver", "5.10").commit == "edcd69ab9a323b7ac7a86e1c44b6c9c46598391f");
}

TEST_CASE("virtio-iommu builds for x86 from v5.14 (8ce4904bfd22); 5.10 is arm64-only", "[unit][profiles]")
{
    check_starts_at("viommu.x86", "5.13.19", "5.14");
    CHECK_FALSE(decide("viommu.x86", "5.10").present);
    CHECK(decide("viommu.x86", "5.15").present);
}

TEST_CASE("ACPI VIOT describes the topology from v5.14 (3cf485540e7b)", "[unit][profiles]")
{
    check_starts_at("acpi.viot", "5.13.19", "5.14");
    CHECK(decide("acpi.viot", "6.1").why == "in mainline since v5.14 (3cf485540e7b8550936ce3602edf2f58e4007304)");
}

TEST_CASE("identity domains and VIRTIO_IOMMU_F_BYPASS_CONFIG from v5.17 (063ebb19d962); 5.15 has neither",
          "[unit][profiles]")
{
    check_starts_at("viommu.bypass_config", "5.16.20", "5.17");
    CHECK_FALSE(decide("viommu.bypass_config", "5.15.167").present);
}

TEST_CASE("5.19.8 lacks virtio-iommu IOMMU_CAP_CACHE_COHERENCY; 5.19.9 has it (77a2d61334f7)", "[unit][profiles]")
{
    const auto before = decide("viommu.cap_cache_coherency", "5.19.8");
    CHECK_FALSE(before.present);
    CHECK(before.why.find("predates the 5.19.y backport in v5.19.9") != std::string::npos);
    const auto after = decide("viommu.cap_cache_coherency", "5.19.9");
    CHECK(after.present);
    CHECK(after.commit == "77a2d61334f715293c20f4fa30df035fd870fba4");
    CHECK_FALSE(decide("viommu.cap_cache_coherency", "5.19").present);
}

TEST_CASE("virtio-iommu reports IOMMU_CAP_CACHE_COHERENCY in mainline from v6.0 (91c98fe79414), and trees "
          "before 5.19 never took it",
          "[unit][profiles]")
{
    const auto d = decide("viommu.cap_cache_coherency", "6.0");
    CHECK(d.present);
    CHECK(d.commit == "91c98fe7941499e4127cdc359c30841b873dd43a");
    CHECK_FALSE(decide("viommu.cap_cache_coherency", "5.18.19").present);
    CHECK_FALSE(decide("viommu.cap_cache_coherency", "5.15.167").present);
}

TEST_CASE("6.1.38 lacks detach_on_release, 6.1.39 has it (0f2c11ccfdcc)", "[unit][profiles]")
{
    CHECK_FALSE(decide("viommu.detach_on_release", "6.1.38").present);
    const auto d = decide("viommu.detach_on_release", "6.1.39");
    CHECK(d.present);
    CHECK(d.commit == "0f2c11ccfdcc97b42b78bf407176d220cb990ada");
}

TEST_CASE("detach_on_release: 6.3.13 and 6.4.4 by backport, v6.5 in mainline (809d0810e352), never 5.15.y",
          "[unit][profiles]")
{
    CHECK_FALSE(decide("viommu.detach_on_release", "6.3.12").present);
    CHECK(decide("viommu.detach_on_release", "6.3.13").commit == "1d950e59bc5de3e5d08d2877ee1c6b98ffd75c0f");
    CHECK_FALSE(decide("viommu.detach_on_release", "6.4.3").present);
    CHECK(decide("viommu.detach_on_release", "6.4.4").commit == "9455ed7835b51ae8f35f850f5bc5bc3653c5f987");
    CHECK(decide("viommu.detach_on_release", "6.5").commit == "809d0810e3520da669d231303608cdf5fe5c1a70");
    CHECK_FALSE(decide("viommu.detach_on_release", "5.15.167").present);
    CHECK_FALSE(decide("viommu.detach_on_release", "6.2.16").present);
}

TEST_CASE("MAP requests are batched by iotlb_sync_map from v6.8 (00271ca5cbcd)", "[unit][profiles]")
{
    check_starts_at("viommu.map_batched", "6.7.12", "6.8");
    CHECK_FALSE(decide("viommu.map_batched", "6.6.57").present);
}

TEST_CASE("virtio-iommu reports IOMMU_CAP_DEFERRED_FLUSH from v6.8 (6f01a732608f)", "[unit][profiles]")
{
    check_starts_at("viommu.cap_deferred_flush", "6.7.12", "6.8");
    CHECK(decide("viommu.cap_deferred_flush", "6.12").present);
}

TEST_CASE("6.15 to 6.16.3 lack the robust instance lookup; 6.16.4 has it by a backport whose id is not "
          "established, v6.17 in mainline (72b6f7cd89ce)",
          "[unit][profiles]")
{
    CHECK_FALSE(decide("viommu.instance_lookup_robust", "6.15.11").present);
    CHECK_FALSE(decide("viommu.instance_lookup_robust", "6.16.3").present);
    const auto backport = decide("viommu.instance_lookup_robust", "6.16.4");
    CHECK(backport.present);
    CHECK(backport.commit == "72b6f7cd89cea8251979b65528d302f9c0ed37bf");
    CHECK(backport.why.find("backport id not established") != std::string::npos);
    CHECK(decide("viommu.instance_lookup_robust", "6.17").present);
}

TEST_CASE("the bypass domain is one static domain with a reserved ID from v6.16 (0d76a6edae9e)", "[unit][profiles]")
{
    check_starts_at("viommu.identity_domain_static", "6.15.11", "6.16");
    CHECK(decide("viommu.identity_domain_static", "6.18").commit == "0d76a6edae9eeae5364285296b69d73dacb152f3");
    CHECK_FALSE(decide("viommu.identity_domain_static", "6.12").present);
}
