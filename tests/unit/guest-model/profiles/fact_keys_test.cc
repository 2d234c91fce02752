// The behaviour keys code names (fact_keys.h, generated from data/facts.json at build time): one
// constant per key of the facts table, none more, each spelling its key.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "guest-model/profiles/fact_keys.h"
#include "guest-model/profiles/facts.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;



TEST_CASE("the generated key constants are exactly the keys of the facts table", "[unit][profiles]")
{
    std::vector<std::string> table;
    for (const Behaviour& b : FactsTable::builtin().behaviours())
        table.push_back(b.key);
    std::vector<std::string> generated;
    for (FactKey key : FactKeys::kAll)
        generated.emplace_back(key.str());
    CHECK(generated == table);
}

TEST_CASE("a key constant is named after its key: fact::PREFIX::kCamelCaseName", "[unit][profiles]")
{
    STATIC_REQUIRE(fact::iommu::kDmaFqType.str() == "iommu.dma_fq_type");
    STATIC_REQUIRE(fact::acpi::kViot.str() == "acpi.viot");
    STATIC_REQUIRE(fact::viommu::kX86.str() == "viommu.x86");
    STATIC_REQUIRE(fact::driver_core::kDeferredProbeTimeout10s.str() == "driver_core.deferred_probe_timeout_10s");
    STATIC_REQUIRE(fact::vfio::kIommufdIsolatedMsiAtBind.str() == "vfio.iommufd_isolated_msi_at_bind");
}
