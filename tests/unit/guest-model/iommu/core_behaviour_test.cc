// The IOMMU core's behaviours, resolved once from a kernel profile.
#include <catch2/catch.hpp>

#include "guest-model/iommu/core_behaviour.h"
#include "tests/support/behaviour.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;
using namespace viommu::guest::driver_core;
using namespace viommu::guest::kernel;

constexpr auto resolve = viommu::test::resolve_behaviour<iommu::CoreBehaviour>;

TEST_CASE("5.10's IOMMU core: lazy is no domain type, no policy line, \"%s %s\" logging", "[unit][iommu][profiles]")
{
    const iommu::CoreBehaviour b = resolve("5.10");
    CHECK_FALSE(b.dma_fq_type);
    CHECK_FALSE(b.lazy_needs_deferred_flush_cap);
    CHECK(b.print_default_domain);
    CHECK_FALSE(b.print_invalidation_policy);
    CHECK(b.log_trailing_space);
}

TEST_CASE("6.12's IOMMU core: DMA-FQ needs IOMMU_CAP_DEFERRED_FLUSH, both boot lines", "[unit][iommu][profiles]")
{
    const iommu::CoreBehaviour b = resolve("6.12");
    CHECK(b.dma_fq_type);
    CHECK(b.lazy_needs_deferred_flush_cap);
    CHECK(b.print_default_domain);
    CHECK(b.print_invalidation_policy);
    CHECK_FALSE(b.log_trailing_space);
}

TEST_CASE("4.19's IOMMU core prints no default domain type (v5.4)", "[unit][iommu][profiles]")
{
    CHECK_FALSE(resolve("4.19").print_default_domain);
}

TEST_CASE("6.1's IOMMU core attaches a device joining a group twice; 6.12's once (0046a4337eae)",
          "[unit][iommu][profiles]")
{
    CHECK(resolve("6.1").join_attaches_twice);
    CHECK_FALSE(resolve("6.12").join_attaches_twice);
}
