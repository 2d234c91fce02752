#include "system/boot/boot_behaviour.h"

#include "guest-model/profiles/fact_keys.h"

namespace viommu::system::boot {

BootBehaviour BootBehaviour::from(const guest::profiles::Profile& profile)
{
    namespace fact = guest::profiles::fact;
    BootBehaviour b;
    b.dma_ownership = profile.has(fact::iommu::kDmaOwnership).present;
    b.probe_at_register = profile.has(fact::iommu::kFwAtRegister).present;
    b.instance_lookup_robust = profile.has(fact::viommu::kInstanceLookupRobust).present;
    return b;
}

} // namespace viommu::system::boot
