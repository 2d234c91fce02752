#include "guest-model/virtio-iommu/behaviour.h"

#include "guest-model/profiles/fact_keys.h"

namespace viommu::guest::virtio_iommu {

ViommuBehaviour ViommuBehaviour::from(const profiles::Profile& profile)
{
    using key = profiles::fact::viommu;
    const auto has = [&](profiles::FactKey k) { return profile.has(k).present; };
    ViommuBehaviour b;
    b.bypass_config = has(key::kBypassConfig);
    b.map_batched = has(key::kMapBatched);
    b.detach_on_release = has(key::kDetachOnRelease);
    b.cap_cache_coherency = has(key::kCapCacheCoherency);
    b.cap_deferred_flush = has(key::kCapDeferredFlush);
    b.identity_domain_static = has(key::kIdentityDomainStatic);
    // From bcb81ac6ae3c (6.15) endpoints are probed while the IOMMU registers, and the driver's instance
    // lookup failed then until 72b6f7cd89ce (6.17, 6.16.4).
    b.instance_lookup_works = !has(profiles::fact::iommu::kFwAtRegister) || has(key::kInstanceLookupRobust);
    return b;
}

} // namespace viommu::guest::virtio_iommu
