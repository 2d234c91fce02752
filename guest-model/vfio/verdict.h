// What VFIO made of one device, as its user meets it: the stage where it was decided, whether the
// device was admitted, the rule that decided with the commit behind it, the errno the user saw, the
// line the kernel logged, and what the user can change to get it admitted.
#pragma once

#include "guest-model/vfio/iova_ranges.h"

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guest-model/profiles/fact_key.h"

namespace viommu::guest::vfio {

enum class Stage {
    kBind,         // echo BDF > /sys/bus/pci/drivers/vfio-pci/bind: vfio_pci_probe()
    kOpenContainer, // open("/dev/vfio/vfio"): the type1 path's container
    kOpenIommufd,   // open("/dev/iommu"): the iommufd-compat path's container (or iommufd's /dev/vfio/vfio)
    kOpenDeviceCdev, // open("/dev/vfio/devices/vfioN"): the iommufd path's device
    kSetContainer, // VFIO_GROUP_SET_CONTAINER: the group's DMA ownership (v5.19)
    kSetIommu,     // VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU): vfio_iommu_type1_attach_group()
    kGetDeviceFd,  // VFIO_GROUP_GET_DEVICE_FD: group viability before v5.19
    kIommufdBind,  // VFIO_DEVICE_BIND_IOMMUFD on the cdev: iommufd_device_bind()
    kIommufdAttach, // VFIO_DEVICE_ATTACH_IOMMUFD_PT on the cdev: iommufd_device_attach()
    kUse,          // the device did DMA through the container's mappings
};
const char* stage_name(Stage stage);

// The rule that decided a verdict. Those that came with a behaviour of the facts table print its key
// ("vfio.requires_cache_coherency") and cite its commit; the others are older than the model's oldest
// kernel, or name the step of the user's that failed.
enum class Rule {
    kBuilt,                   // "vfio.built": the kernel builds VFIO at all (CONFIG_VFIO)
    kProbeDeferred,           // "vfio.probe_deferred": dma_configure() deferred vfio-pci's probe
    kNormalHeader,            // "vfio-pci.normal_header": vfio_pci_probe() takes type 0 headers only
    kNeedsIommuGroup,         // "vfio.needs_iommu_group": vfio_group_find_or_alloc() without a group
    kNoiommu,                 // fact vfio.noiommu: a no-IOMMU group
    kRequiresCacheCoherency,  // fact vfio.requires_cache_coherency
    kBind,                    // "vfio.bind": vfio-pci bound in an IOMMU group
    kDmaOwnership,            // fact vfio.dma_ownership: VFIO_GROUP_SET_CONTAINER claims the group
    kType1Domain,             // "vfio.type1_domain": the IOMMU driver refused an UNMANAGED domain
    kType1Attach,             // "vfio.type1_attach": the IOMMU refused to attach the group
    kGroupViable,             // "vfio.group_viable": vfio_group_viable() before v5.19
    kType1IsolatedMsi,        // fact vfio.type1_isolated_msi
    kType1MsiRemap,           // "vfio.type1_msi_remap": irq_domain_check_msi_remap() before v6.3
    kIommufd,                 // fact vfio.iommufd
    kIommufdIsolatedMsiAtBind, // fact vfio.iommufd_isolated_msi_at_bind
    kMapDma,                  // "vfio.map_dma": VFIO_IOMMU_MAP_DMA failed
    kDma,                     // "vfio.dma": the device's DMA did not reach the user's buffer
    kIommuDmaOwnership,       // fact iommu.dma_ownership: iommufd's claim of the group
    kVfioContainer,           // "vfio.container": no /dev/vfio/vfio at all (CONFIG_VFIO_CONTAINER=n, no iommufd's)
    kIommufdVfioCompat,       // fact vfio.iommufd_vfio_compat: iommufd's compat container
    kDeviceCdev,              // fact vfio.device_cdev: the VFIO device cdev
};
// What reports print for the rule: its facts key, or its own name.
std::string_view rule_key(Rule rule);
// The behaviour of the facts table the rule came with, if any.
std::optional<profiles::FactKey> rule_fact(Rule rule);
std::ostream& operator<<(std::ostream& out, Rule rule);

struct Verdict {
    Stage stage = Stage::kBind;
    bool admitted = false;
    Rule rule = Rule::kBind;
    int error = 0;      // the positive errno the user saw (0 when admitted)
    std::string reason; // one sentence: why
    std::string log;    // what the kernel logged for it ("" when it says nothing)
    std::string commit; // the commit that made the rule ("" for rules older than the model)
    std::vector<std::string> remedies; // what the user can change
    bool unsafe = false; // admitted without isolation (no-IOMMU mode, allow_unsafe_interrupts)
    // A type1 container's usable IOVA ranges (VFIO_IOMMU_GET_INFO's IOVA range capability), once set up.
    std::vector<IovaRange> iova_ranges;
};

// A refusal at `stage` by `rule`, with the errno the user sees and why.
Verdict refusal(Stage stage, Rule rule, int error, std::string reason);

} // namespace viommu::guest::vfio
