#include "guest-model/profiles/fact_keys.h"
#include "guest-model/profiles/profile.h"
#include "guest-model/virtio-drivers/pci_modern_driver.h"

namespace viommu::guest::virtio_drivers {

VirtioPciBehaviour VirtioPciBehaviour::from(const profiles::Profile& profile)
{
    VirtioPciBehaviour b;
    b.ring_reset = profile.has(profiles::fact::virtio_pci::kRingReset).present;
    b.ring = VirtioRingBehaviour::from(profile);
    return b;
}

} // namespace viommu::guest::virtio_drivers
