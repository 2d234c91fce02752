#include "guest-model/profiles/fact_keys.h"
#include "guest-model/profiles/profile.h"
#include "guest-model/virtio-drivers/driver_queue.h"

namespace viommu::guest::virtio_drivers {

VirtioRingBehaviour VirtioRingBehaviour::from(const profiles::Profile& profile)
{
    VirtioRingBehaviour b;
    b.packed_ring = profile.has(profiles::fact::virtio_ring::kPackedRing).present;
    return b;
}

} // namespace viommu::guest::virtio_drivers
