// What differs between the releases the VFIO gate models (drivers/vfio, drivers/iommu/iommufd),
// resolved once from the kernel profile, with the decisions kept: a verdict cites the commit that made
// the rule it applies.
#pragma once

#include <string>

#include "guest-model/profiles/fact_decisions.h"
#include "guest-model/profiles/profile.h"

namespace viommu::guest::vfio {

struct GateBehaviour {
    bool noiommu = false;                      // no-IOMMU mode exists (03a76b60f8ba, v4.5)
    bool noiommu_ignores_bus_iommu = false;    // no-IOMMU groups while an IOMMU serves the bus (a77109ffca33, v5.19)
    bool requires_cache_coherency = false;     // vfio-pci wants IOMMU_CAP_CACHE_COHERENCY (e8ae0e140c05, v5.19)
    bool coherency_check_in_register_dev = false; // ... asked in __vfio_register_dev() (5398be2564eb, v6.6)
    // virtio-iommu's capable() reports IOMMU_CAP_CACHE_COHERENCY (91c98fe79414): a device it is refused
    // for is then one the IOMMU calls non-coherent (the experimental extension), not a kernel without it.
    bool iommu_reports_coherency = false;
    bool dma_ownership = false;                // VFIO_GROUP_SET_CONTAINER claims the group (70693f470848, v5.19)
    bool iommufd = false;                      // the iommufd backend (e8d57210035b, v6.2)
    bool iommufd_isolated_msi_at_bind = false; // iommufd checks MSI isolation at bind (d525a5b8cf39, v6.6)
    bool iommufd_vfio_compat = false;          // iommufd answers the container ioctls (d624d6652a65, v6.2)
    bool device_cdev = false;                  // /dev/vfio/devices/vfioN, VFIO_DEVICE_BIND_IOMMUFD (5fcc26969a16, v6.6)
    bool type1_isolated_msi = false;           // type1 asks iommu_group_has_isolated_msi() (6b1a7a00427c, v6.3)
    profiles::FactDecisions decisions;                   // every behaviour above, and iommu.dma_ownership

    static GateBehaviour from(const profiles::Profile& profile);
    // The commit behind a behaviour read above ("" when the model has no id for it).
    const std::string& commit(profiles::FactKey key) const { return decisions.of(key).commit; }
};

} // namespace viommu::guest::vfio
