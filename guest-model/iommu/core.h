// The guest kernel's IOMMU core (drivers/iommu/iommu.c), as much as decides what a guest's devices end
// up with: when a device is probed by its IOMMU (at dma_configure, when its driver binds), which IOMMU
// group it joins (pci_device_group()), the group's default domain (iommu.passthrough, iommu.strict,
// lazy invalidation), device_iommu_capable(), and the domain changes VFIO makes. It talks to the IOMMU
// driver only through iommu::IommuDriver.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "guest-model/driver-core/driver_core.h"
#include "guest-model/iommu/core_behaviour.h"
#include "guest-model/iommu/iommu_ops.h"
#include "guest-model/pci/topology.h"

namespace viommu::guest::iommu {

// How the platform describes which IOMMU translates a device (ACPI VIOT on x86 since v5.14, device tree
// or ACPI VIOT on arm64).
enum class Firmware { kAcpiViot, kDeviceTree };

struct FirmwareLink {
    std::string iommu;         // the IOMMU instance (its firmware node: the virtio-iommu's PCI name)
    std::vector<uint32_t> ids; // endpoint IDs, the device's own first (pci_for_each_dma_alias order)
};

struct CoreConfig {
    Firmware firmware = Firmware::kAcpiViot;
    bool passthrough = false;         // iommu.passthrough=1, or CONFIG_IOMMU_DEFAULT_PASSTHROUGH
    bool passthrough_cmdline = false; // ... set on the command line ("(set via kernel command line)")
    bool strict = false;              // iommu.strict=1, or CONFIG_IOMMU_DEFAULT_DMA_STRICT
    bool strict_cmdline = false;
    // Whether a virtio-iommu driver is built at all (CONFIG_VIRTIO_IOMMU): without it, VIOT's endpoints
    // are not waited for (viot_dev_iommu_init() returns -ENODEV).
    bool iommu_driver_built = true;
    // Whether pci_request_acs() ran before PCI enumeration, so that pci_acs_init() enabled each ACS
    // capability (drivers/pci/pci.c pci_enable_acs(): nothing without pci_acs_enable). ACPI guests ask
    // while the tables are parsed (acpi_viot_early_init(), from "ACPI: VIOT: Fix ACS setup" in v6.0-rc1
    // and the 5.15.y and 5.19.y stable series; the VIOT kernels before it asked too late as well, which
    // the model does not reproduce); on a device tree only of_iommu_configure()
    // asks, when a driver probes, after every device was enumerated with ACS off, so no port isolates:
    // "ACS has never really worked [on OF platforms] on kernel versions prior to v6.15" (the stable
    // reverts of b20b659c2c6a, whose mainline c41e2fb67e26 moves pci_enable_acs() into
    // pci_dma_configure(); no profile here is that recent).
    bool acs_requested = true;
    // The PCI host bridge's memory windows, never used as IOVAs (iova_reserve_pci_windows()).
    std::vector<std::pair<uint64_t, uint64_t>> pci_windows;
};

class Group {
public:
    explicit Group(int id) : id_(id) {}
    int id() const { return id_; }
    const std::vector<driver_core::Device*>& devices() const { return devices_; }
    Domain* default_domain() const { return default_domain_.get(); }
    Domain* domain() const { return domain_; }
    // The claim VFIO makes (iommu_group_claim_dma_owner()): the default domain is not used while held.
    bool dma_owned() const { return owned_; }
    // Devices of the group bound to a kernel driver that uses the default domain (group->owner_cnt
    // without an owner, v5.19 1ea2a07a532b).
    unsigned default_domain_users() const { return users_; }

private:
    friend class IommuCore;
    int id_;
    std::vector<driver_core::Device*> devices_;
    std::unique_ptr<Domain> default_domain_;
    std::unique_ptr<Domain> blocking_domain_;
    Domain* domain_ = nullptr;
    bool owned_ = false;
    unsigned users_ = 0;
};

// The IOMMU core's view of one device (struct dev_iommu).
struct DeviceIommu {
    IommuDriver* iommu = nullptr;
    Group* group = nullptr;
    std::vector<ResvRegion> resv;
};

class IommuCore {
public:
    IommuCore(driver_core::DriverCore& core, CoreConfig config, CoreBehaviour behaviour);
    IommuCore(const IommuCore&) = delete;
    IommuCore& operator=(const IommuCore&) = delete;

    // iommu_subsys_init(): the boot messages about the default domain type and invalidation policy.
    void subsys_init();

    // What the firmware says about a device, and its PCI function (for grouping). Set by the platform.
    void set_firmware_link(driver_core::Device& dev, FirmwareLink link) { links_[&dev] = std::move(link); }
    void set_pci_function(driver_core::Device& dev, const pci::Function& f) { pci_[&dev] = &f; }
    // A firmware node that names an IOMMU: the device that is that IOMMU is not translated by itself.
    void set_iommu_node(driver_core::Device& dev, const std::string& fwnode) { iommu_nodes_[&dev] = fwnode; }

    // iommu_device_register(): the instance can now probe devices.
    void register_iommu(const std::string& fwnode, IommuDriver& driver);
    void unregister_iommu(const std::string& fwnode);

    // The bus's dma_configure step (pci_dma_configure() through acpi/of_iommu_configure): 0, or
    // -EPROBE_DEFER while the device's IOMMU instance is not registered.
    int dma_configure(driver_core::Device& dev);
    // A device leaves (device_del()): the driver's release_device, then out of its group.
    void remove_device(driver_core::Device& dev);
    // A device that is gone for good (hot-unplugged): what the platform said about it is forgotten too.
    void forget_device(const driver_core::Device& dev);

    const DeviceIommu* device(const driver_core::Device& dev) const;
    Group* group_of(const driver_core::Device& dev) const;
    const std::map<int, std::unique_ptr<Group>>& groups() const { return groups_; }
    bool device_iommu_capable(const driver_core::Device& dev, Cap cap) const;
    DomainType default_domain_type() const;
    uint64_t pgsize_bitmap(const driver_core::Device& dev) const;

    // A group for a device no IOMMU translates (vfio_noiommu_group_alloc(): iommu_group_alloc() and
    // iommu_group_add_device(), "Adding to iommu group N").
    Group& add_software_group(driver_core::Device& dev);

    // DMA ownership (v5.19 1ea2a07a532b): a kernel driver binding a device uses the group's default
    // domain (iommu_device_use_default_domain(), from pci_dma_configure() unless the driver sets
    // driver_managed_dma): -EBUSY while a user owns the group. A device without a group: 0.
    int device_use_default_domain(driver_core::Device& dev);
    void device_unuse_default_domain(driver_core::Device& dev);

    // Domain changes for VFIO (iommu_group_claim_dma_owner(), iommu_attach_group(), ...). Each attach
    // moves every device of the group, one attach_dev() each. claim_dma_owner() is -EPERM while a
    // kernel driver uses the default domain, -EBUSY while another user owns it.
    int claim_dma_owner(Group& group);
    void release_dma_owner(Group& group);
    std::unique_ptr<Domain> domain_alloc(Group& group, DomainType type);
    int attach_group(Group& group, Domain& domain);
    void detach_group(Group& group); // back to the blocking domain (owned) or the default domain

    // The IOMMU of a device, for the DMA API.
    IommuDriver* iommu_of(const driver_core::Device& dev) const;
    const CoreConfig& config() const { return config_; }
    kernel::KernelLog& log() { return core_.log(); }

private:
    int probe_device(driver_core::Device& dev, IommuDriver& drv, const FirmwareLink& link);
    Group* pci_device_group(driver_core::Device& dev);
    Group* new_group();
    int setup_default_domain(Group& group);
    driver_core::Device* device_of(const pci::Function* f) const;
    int attach_all(Group& group, Domain& domain);

    driver_core::DriverCore& core_;
    CoreConfig config_;
    CoreBehaviour behaviour_;
    std::map<std::string, IommuDriver*> iommus_;
    std::map<const driver_core::Device*, FirmwareLink> links_;
    std::map<const driver_core::Device*, const pci::Function*> pci_;
    std::map<const driver_core::Device*, std::string> iommu_nodes_;
    std::map<const driver_core::Device*, DeviceIommu> devices_;
    std::map<int, std::unique_ptr<Group>> groups_;
};

} // namespace viommu::guest::iommu
