// A VFIO verdict's rule: an enumerator that prints the key reports and the JSON schema carry.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "guest-model/profiles/facts.h"
#include "guest-model/vfio/verdict.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;


using vfio::Rule;

namespace {

// Every rule with the key it has always printed.
const std::pair<Rule, const char*> kRules[] = {
    {Rule::kBuilt, "vfio.built"},
    {Rule::kProbeDeferred, "vfio.probe_deferred"},
    {Rule::kNormalHeader, "vfio-pci.normal_header"},
    {Rule::kNeedsIommuGroup, "vfio.needs_iommu_group"},
    {Rule::kNoiommu, "vfio.noiommu"},
    {Rule::kRequiresCacheCoherency, "vfio.requires_cache_coherency"},
    {Rule::kBind, "vfio.bind"},
    {Rule::kDmaOwnership, "vfio.dma_ownership"},
    {Rule::kType1Domain, "vfio.type1_domain"},
    {Rule::kType1Attach, "vfio.type1_attach"},
    {Rule::kGroupViable, "vfio.group_viable"},
    {Rule::kType1IsolatedMsi, "vfio.type1_isolated_msi"},
    {Rule::kType1MsiRemap, "vfio.type1_msi_remap"},
    {Rule::kIommufd, "vfio.iommufd"},
    {Rule::kIommufdIsolatedMsiAtBind, "vfio.iommufd_isolated_msi_at_bind"},
    {Rule::kVfioContainer, "vfio.container"},
    {Rule::kIommufdVfioCompat, "vfio.iommufd_vfio_compat"},
    {Rule::kDeviceCdev, "vfio.device_cdev"},
    {Rule::kMapDma, "vfio.map_dma"},
    {Rule::kDma, "vfio.dma"},
    {Rule::kIommuDmaOwnership, "iommu.dma_ownership"},
};

} // namespace

TEST_CASE("each verdict rule prints its key", "[unit][vfio]")
{
    std::set<std::string> seen;
    for (const auto& [rule, key] : kRules) {
        INFO(key);
        CHECK(vfio::rule_key(rule) == key);
        std::ostringstream printed;
        printed << rule;
        CHECK(printed.str() == key);
        CHECK(seen.insert(key).second);
    }
    CHECK(seen.size() == static_cast<std::size_t>(Rule::kDeviceCdev) + 1);
}

TEST_CASE("a rule that came with a behaviour of the facts table prints that behaviour's key", "[unit][vfio]")
{
    for (const auto& [rule, key] : kRules) {
        INFO(key);
        const auto fact = vfio::rule_fact(rule);
        if (fact)
            CHECK(fact->str() == key);
        CHECK((FactsTable::builtin().find(key) != nullptr) == fact.has_value());
    }
}
