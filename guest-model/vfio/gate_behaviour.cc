#include "guest-model/vfio/gate_behaviour.h"

#include "guest-model/profiles/fact_keys.h"

namespace viommu::guest::vfio {

GateBehaviour GateBehaviour::from(const profiles::Profile& profile)
{
    using key = profiles::fact::vfio;
    GateBehaviour b;
    profiles::FactDecisions& d = b.decisions;
    b.noiommu = d.read(profile, key::kNoiommu);
    b.noiommu_ignores_bus_iommu = d.read(profile, key::kNoiommuIgnoresBusIommu);
    b.requires_cache_coherency = d.read(profile, key::kRequiresCacheCoherency);
    b.coherency_check_in_register_dev = d.read(profile, key::kCoherencyCheckInRegisterDev);
    b.iommu_reports_coherency = profile.has(profiles::fact::viommu::kCapCacheCoherency).present;
    b.dma_ownership = d.read(profile, key::kDmaOwnership);
    b.iommufd = d.read(profile, key::kIommufd);
    b.iommufd_isolated_msi_at_bind = d.read(profile, key::kIommufdIsolatedMsiAtBind);
    b.iommufd_vfio_compat = d.read(profile, key::kIommufdVfioCompat);
    b.device_cdev = d.read(profile, key::kDeviceCdev);
    b.type1_isolated_msi = d.read(profile, key::kType1IsolatedMsi);
    // iommufd_device_bind() claims the group's DMA ownership (1ea2a07a532b): its refusal cites it.
    (void)d.read(profile, profiles::fact::iommu::kDmaOwnership);
    return b;
}

} // namespace viommu::guest::vfio
