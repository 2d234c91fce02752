// The VFIO admission gate of a guest kernel, in the two stages its user meets:
//  1. binding vfio-pci (vfio_pci_probe() -> vfio_pci_core_register_device()): the device needs an
//     IOMMU group, or a no-IOMMU group when the kernel has and enables that mode; from v5.19
//     (e8ae0e140c05) the IOMMU must also report IOMMU_CAP_CACHE_COHERENCY for it;
//  2. using it, on the user path of the run (user_path.h): VFIO_GROUP_SET_CONTAINER and
//     VFIO_SET_IOMMU(TYPE1v2) on VFIO's type1 container or on iommufd's compat container, or the device
//     cdev's VFIO_DEVICE_BIND_IOMMUFD and VFIO_DEVICE_ATTACH_IOMMUFD_PT, with group viability and MSI
//     isolation (each backend's allow_unsafe_interrupts).
// Each rule sits where the profile's kernel has it and cites the commit that put it there.
//
// The gate reaches devices through the driver core and the IOMMU core only, as vfio does.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>

#include "guest-model/driver-core/driver_core.h"
#include "guest-model/iommu/core.h"
#include "guest-model/mm/phys_alloc.h"
#include "guest-model/pci/topology.h"
#include "guest-model/profiles/fact_key.h"
#include "guest-model/profiles/profile.h"
#include "guest-model/vfio/gate_behaviour.h"
#include "guest-model/vfio/user_path.h"
#include "guest-model/vfio/verdict.h"

namespace viommu::guest::vfio {

enum class MsiPlatform { kX86, kArm64 };

struct GateConfig {
    bool noiommu_built = false;      // CONFIG_VFIO_NOIOMMU
    bool enable_unsafe_noiommu_mode = false;      // vfio.enable_unsafe_noiommu_mode=1
    bool allow_unsafe_interrupts = false;         // vfio_iommu_type1.allow_unsafe_interrupts=1
    bool iommufd_allow_unsafe_interrupts = false; // iommufd.allow_unsafe_interrupts=1
    // The platform isolates MSIs (arm64 GICv3 ITS: IRQ_DOMAIN_FLAG_ISOLATED_MSI, before v6.3
    // IRQ_DOMAIN_FLAG_MSI_REMAP); x86 without interrupt remapping does not.
    bool msi_isolated = false;
    // Where MSIs would be isolated instead, for the remedies: on x86 by an IOMMU that remaps interrupts,
    // on arm64 by a GICv3 ITS.
    MsiPlatform msi_platform = MsiPlatform::kArm64;
    Backend backend = Backend::kType1Container; // the user path of the run
    UserPathConfig paths;                         // which device nodes the kernel has
    // Where the user maps its buffer (VFIO_IOMMU_MAP_DMA's iova): 1 MiB, low, outside every reserved region.
    uint64_t user_iova = 0x100000;
};

// The device's DMA once the user has mapped a buffer: `size` bytes of guest RAM at `phys`, reachable by
// the device at `iova`. Returns "" when the device reached the right bytes, else what went wrong.
using DmaCheck = std::function<std::string(uint64_t iova, uint64_t phys, uint64_t size)>;

// "a kernel with <commit> (<subject>): v6.0, 5.19.9": where a behaviour of the facts table is found.
std::string fix_remedy(profiles::FactKey behaviour);

class Gate {
public:
    // ram provides the buffers the user maps (the VFIO user's memory).
    Gate(const profiles::Profile& profile, driver_core::DriverCore& core, iommu::IommuCore& iommu, mm::PhysAllocator& ram, GateConfig config);

    // The vfio-pci driver for the PCI bus: driver_override-only matching is the bus's business;
    // the probe applies stage 1. function_of tells it which PCI function a device is.
    driver_core::DriverSpec vfio_pci_driver(driver_core::Bus& pci, std::function<const pci::Function*(const driver_core::Device&)> function_of);
    // Loading vfio.ko (once): "VFIO - User Level meta-driver version: 0.3".
    void load_module();

    // Stage 1's outcome for a device vfio-pci was bound to or refused, if it was tried.
    const Verdict* bind_verdict(const driver_core::Device& dev) const;
    // Stage 2, for a device vfio-pci is bound to: open its group, set up the backend, get the device
    // and let dma check the mappings. The group goes back to its default domain afterwards (close).
    Verdict use(driver_core::Device& dev, const DmaCheck& dma);

    // The user path of the run.
    Backend backend() const { return config_.backend; }

    // Whether the IOMMU core has an IOMMU on the PCI bus (iommu_present(&pci_bus_type)).
    void set_iommu_on_bus(bool on) { iommu_on_bus_ = on; }

private:
    int probe(driver_core::Device& dev, const pci::Function& fn);
    Verdict use_type1(driver_core::Device& dev, iommu::Group& group, const DmaCheck& dma);
    // iommufd's bind and attach, from the compat container (inside VFIO_GROUP_GET_DEVICE_FD) or the cdev.
    Verdict use_iommufd(driver_core::Device& dev, iommu::Group& group, const DmaCheck& dma, Backend path);
    Verdict check_msi(Stage stage, const driver_core::Device& dev, bool iommufd);
    // The remedy that isolates MSIs on this platform, beside the unsafe module parameter.
    std::string isolating_alternative() const;
    void fgsp_probe(iommu::Group& group, iommu::Domain& domain);
    // The map of a user buffer (map_ioctl names it) if it lies in ranges, the device's DMA, the unmap: a
    // refusal, or nothing.
    std::optional<Verdict> dma_through(iommu::Group& group, iommu::Domain& domain, const std::vector<IovaRange>& ranges,
                                       const DmaCheck& dma, const char* map_ioctl);
    // The container's usable IOVA ranges for the group (vfio_iommu_type1_attach_group()).
    std::vector<IovaRange> type1_ranges(const iommu::Group& group) const;
    std::string non_viable_reason(const iommu::Group& group, const driver_core::Device& dev) const;
    static Verdict refuse(Stage stage, Rule rule, int err, std::string reason);

    GateBehaviour behaviour_;
    driver_core::DriverCore& core_;
    iommu::IommuCore& iommu_;
    mm::PhysAllocator& ram_;
    GateConfig config_;
    bool iommu_on_bus_ = false;
    bool loaded_ = false;
    bool compat_announced_ = false; // iommufd's pr_info_once() for its /dev/vfio/vfio
    std::map<const driver_core::Device*, Verdict> bound_;
    std::set<const driver_core::Device*> noiommu_; // devices that got a no-IOMMU group
};

} // namespace viommu::guest::vfio
