// The virtio-iommu driver's behaviours, resolved once from a kernel profile.
#include <catch2/catch.hpp>

#include "guest-model/virtio-iommu/behaviour.h"
#include "tests/support/behaviour.h"

using namespace viommu::guest;
using namespace viommu::guest::virtio_iommu;
using namespace viommu::guest::profiles;
using namespace viommu::guest::driver_core;
using namespace viommu::guest::kernel;

constexpr auto resolve = viommu::test::resolve_behaviour<ViommuBehaviour>;

TEST_CASE("5.15's virtio-iommu driver: no bypass config, synchronous MAPs, no capabilities", "[unit][viommu][profiles]")
{
    const ViommuBehaviour b = resolve("5.15");
    CHECK_FALSE(b.bypass_config);
    CHECK_FALSE(b.map_batched);
    CHECK_FALSE(b.detach_on_release);
    CHECK_FALSE(b.cap_cache_coherency);
    CHECK_FALSE(b.cap_deferred_flush);
    CHECK(b.instance_lookup_works);
    CHECK_FALSE(b.identity_domain_static);
}

TEST_CASE("6.12's virtio-iommu driver has every behaviour the model switches but the static bypass domain",
          "[unit][viommu][profiles]")
{
    const ViommuBehaviour b = resolve("6.12");
    CHECK(b.bypass_config);
    CHECK(b.map_batched);
    CHECK(b.detach_on_release);
    CHECK(b.cap_cache_coherency);
    CHECK(b.cap_deferred_flush);
    CHECK(b.instance_lookup_works);
    CHECK_FALSE(b.identity_domain_static);
}

TEST_CASE("the instance lookup fails from 6.15 (probe at register) until 6.16.4 and 6.17", "[unit][viommu][profiles]")
{
    CHECK(resolve("6.14").instance_lookup_works);
    CHECK_FALSE(resolve("6.15").instance_lookup_works);
    CHECK_FALSE(resolve("6.16.3").instance_lookup_works);
    CHECK(resolve("6.16.4").instance_lookup_works);
    CHECK(resolve("6.17").instance_lookup_works);
}

TEST_CASE("6.18's virtio-iommu driver is 6.12's with the static bypass domain (0d76a6edae9e, v6.16)",
          "[unit][viommu][profiles]")
{
    const ViommuBehaviour v612 = resolve("6.12");
    ViommuBehaviour v618 = resolve("6.18");
    CHECK(v618.identity_domain_static);
    v618.identity_domain_static = false;
    CHECK(v618 == v612);
}
