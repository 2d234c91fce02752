#include "guest-model/iommu/core_behaviour.h"

#include "guest-model/profiles/fact_keys.h"

namespace viommu::guest::iommu {

CoreBehaviour CoreBehaviour::from(const profiles::Profile& profile)
{
    using key = profiles::fact::iommu;
    const auto has = [&](profiles::FactKey k) { return profile.has(k).present; };
    CoreBehaviour b;
    b.dma_fq_type = has(key::kDmaFqType);
    b.lazy_needs_deferred_flush_cap = has(key::kFqNeedsDeferredFlushCap);
    b.print_default_domain = has(key::kDefaultDomainLog);
    b.print_invalidation_policy = has(key::kTlbPolicyLog);
    b.log_trailing_space = !has(key::kLogNoTrailingSpace);
    b.join_attaches_twice = !has(key::kJoinAttachesOnce);
    return b;
}

} // namespace viommu::guest::iommu
