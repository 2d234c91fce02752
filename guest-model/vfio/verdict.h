// What VFIO made of one device, as its user meets it: the stage where it was decided, whether the
// device was admitted, the rule that decided with the commit behind it, the errno the user saw, the
// line the kernel logged, and what the user can change to get it admitted.
#pragma once

#include <string>
#include <vector>

namespace viommu::guest::vfio {

enum class Stage {
    kBind,         // echo BDF > /sys/bus/pci/drivers/vfio-pci/bind: vfio_pci_probe()
    kSetContainer, // VFIO_GROUP_SET_CONTAINER: the group's DMA ownership (v5.19)
    kSetIommu,     // VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU): vfio_iommu_type1_attach_group()
    kGetDeviceFd,  // VFIO_GROUP_GET_DEVICE_FD: group viability before v5.19
    kIommufdBind,  // VFIO_DEVICE_BIND_IOMMUFD / iommufd_device_bind()
    kIommufdAttach, // VFIO_DEVICE_ATTACH_IOMMUFD_PT / iommufd_device_attach()
    kUse,          // the device did DMA through the container's mappings
};
const char* stage_name(Stage stage);

struct Verdict {
    Stage stage = Stage::kBind;
    bool admitted = false;
    std::string rule;   // the facts key or rule name, e.g. "vfio.requires_cache_coherency"
    int error = 0;      // the positive errno the user saw (0 when admitted)
    std::string reason; // one sentence: why
    std::string log;    // what the kernel logged for it ("" when it says nothing)
    std::string commit; // the commit that made the rule ("" for rules older than the model)
    std::vector<std::string> remedies; // what the user can change
    bool unsafe = false; // admitted without isolation (no-IOMMU mode, allow_unsafe_interrupts)
};

} // namespace viommu::guest::vfio
