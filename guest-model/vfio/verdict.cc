#include "guest-model/vfio/verdict.h"

#include <ostream>
#include <utility>

#include "guest-model/profiles/fact_keys.h"

namespace viommu::guest::vfio {

namespace {

struct RuleName {
    std::string_view key;
    std::optional<profiles::FactKey> fact;
};

RuleName fact_rule(profiles::FactKey fact)
{
    return {fact.str(), fact};
}

RuleName name_of(Rule rule)
{
    using key = profiles::fact::vfio;
    switch (rule) {
    case Rule::kBuilt: return {"vfio.built", {}};
    case Rule::kProbeDeferred: return {"vfio.probe_deferred", {}};
    case Rule::kNormalHeader: return {"vfio-pci.normal_header", {}};
    case Rule::kNeedsIommuGroup: return {"vfio.needs_iommu_group", {}};
    case Rule::kNoiommu: return fact_rule(key::kNoiommu);
    case Rule::kRequiresCacheCoherency: return fact_rule(key::kRequiresCacheCoherency);
    case Rule::kBind: return {"vfio.bind", {}};
    case Rule::kDmaOwnership: return fact_rule(key::kDmaOwnership);
    case Rule::kType1Domain: return {"vfio.type1_domain", {}};
    case Rule::kType1Attach: return {"vfio.type1_attach", {}};
    case Rule::kGroupViable: return {"vfio.group_viable", {}};
    case Rule::kType1IsolatedMsi: return fact_rule(key::kType1IsolatedMsi);
    case Rule::kType1MsiRemap: return {"vfio.type1_msi_remap", {}};
    case Rule::kIommufd: return fact_rule(key::kIommufd);
    case Rule::kIommufdIsolatedMsiAtBind: return fact_rule(key::kIommufdIsolatedMsiAtBind);
    case Rule::kMapDma: return {"vfio.map_dma", {}};
    case Rule::kDma: return {"vfio.dma", {}};
    case Rule::kIommuDmaOwnership: return fact_rule(profiles::fact::iommu::kDmaOwnership);
    case Rule::kVfioContainer: return {"vfio.container", {}};
    case Rule::kIommufdVfioCompat: return fact_rule(key::kIommufdVfioCompat);
    case Rule::kDeviceCdev: return fact_rule(key::kDeviceCdev);
    }
    return {"?", {}};
}

} // namespace

std::string_view rule_key(Rule rule)
{
    return name_of(rule).key;
}

std::optional<profiles::FactKey> rule_fact(Rule rule)
{
    return name_of(rule).fact;
}

std::ostream& operator<<(std::ostream& out, Rule rule)
{
    return out << rule_key(rule);
}

Verdict refusal(Stage stage, Rule rule, int error, std::string reason)
{
    Verdict v;
    v.stage = stage;
    v.rule = rule;
    v.error = error;
    v.reason = std::move(reason);
    return v;
}

} // namespace viommu::guest::vfio
