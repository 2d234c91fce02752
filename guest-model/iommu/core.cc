#include "guest-model/iommu/core.h"

#include "guest-model/driver-core/dev_printk.h"
#include "guest-model/kernel/errno.h"

namespace viommu::guest::iommu {

namespace {

// include/linux/iommu.h: the numbers "%u" prints for a domain type.
unsigned domain_type_number(DomainType t)
{
    switch (t) {
    case DomainType::kBlocked: return 0;
    case DomainType::kUnmanaged: return 1;
    case DomainType::kDma: return 3;
    case DomainType::kIdentity: return 4;
    case DomainType::kDmaFq: return 11;
    }
    return 0;
}

// pci_acs_enabled() for the flags the IOMMU core asks for (REQ_ACS_FLAGS). An ACS capability isolates
// only once Linux has set its control bits, which pci_enable_acs() does when the device is enumerated
// and only if pci_request_acs() came first (CoreConfig::acs_requested).
bool acs_enabled(const pci::Function& f, bool acs_requested)
{
    const bool acs_on = f.acs && acs_requested;
    switch (f.kind) {
    case pci::Kind::kHostBridge:
    case pci::Kind::kEndpoint:
    case pci::Kind::kPciBridge: return false; // conventional PCI: "!pci_is_pcie(pdev)"
    case pci::Kind::kPcieToPciBridge: return false; // PCI_EXP_TYPE_PCI_BRIDGE: no ACS to speak of
    // PCIe 3.0 §6.12.1.1: downstream and root ports say with their ACS capability.
    case pci::Kind::kRootPort:
    case pci::Kind::kSwitchDownstream: return acs_on;
    // §6.12.1.2: other PCIe functions need ACS only as part of a multifunction device.
    case pci::Kind::kSwitchUpstream:
    case pci::Kind::kPcieEndpoint: return !f.multifunction || acs_on;
    }
    return false;
}

// pci_acs_path_enabled(start, NULL): every device from start up to the root bus isolates.
bool acs_path_enabled(const pci::Function* start, bool acs_requested)
{
    for (const pci::Function* f = start; f; f = f->parent)
        if (!acs_enabled(*f, acs_requested))
            return false;
    return true;
}

} // namespace

const char* domain_type_name(DomainType t)
{
    switch (t) {
    case DomainType::kBlocked: return "blocked";
    case DomainType::kIdentity: return "identity";
    case DomainType::kUnmanaged: return "unmanaged";
    case DomainType::kDma: return "DMA";
    case DomainType::kDmaFq: return "DMA-FQ";
    }
    return "?";
}

const char* cap_name(Cap c)
{
    switch (c) {
    case Cap::kCacheCoherency: return "IOMMU_CAP_CACHE_COHERENCY";
    case Cap::kIntrRemap: return "IOMMU_CAP_INTR_REMAP";
    case Cap::kNoexec: return "IOMMU_CAP_NOEXEC";
    case Cap::kPreSetDmaReg: return "IOMMU_CAP_PRE_BOOT_PROTECTION";
    case Cap::kEnforceCacheCoherency: return "IOMMU_CAP_ENFORCE_CACHE_COHERENCY";
    case Cap::kDeferredFlush: return "IOMMU_CAP_DEFERRED_FLUSH";
    case Cap::kDirtyTracking: return "IOMMU_CAP_DIRTY_TRACKING";
    }
    return "?";
}

IommuCore::IommuCore(driver_core::DriverCore& core, CoreConfig config, CoreBehaviour behaviour)
    : core_(core), config_(std::move(config)), behaviour_(behaviour)
{
}

DomainType IommuCore::default_domain_type() const
{
    if (config_.passthrough)
        return DomainType::kIdentity;
    // Before v5.15 lazy mode was an attribute of a DMA domain that virtio-iommu never took.
    return config_.strict || !behaviour_.dma_fq_type ? DomainType::kDma : DomainType::kDmaFq;
}

void IommuCore::subsys_init()
{
    // iommu_subsys_init() (pr_fmt "iommu: "). Before v6.5 both lines were "%s %s", so a value without
    // the command-line note ends in a space. Each line has its own note: the default domain type's
    // follows IOMMU_CMD_LINE_DMA_API (iommu.passthrough=), the invalidation policy's follows
    // IOMMU_CMD_LINE_STRICT (iommu.strict=, since d8577d2e331d "iommu: Print strict or lazy mode at
    // init time", v5.15; so in v6.1 and v6.12).
    const auto note = [&](bool cmdline) -> std::string_view {
        if (cmdline)
            return " (set via kernel command line)";
        return behaviour_.log_trailing_space ? " " : "";
    };
    if (behaviour_.print_default_domain)
        core_.log().print(kernel::LogLevel::info, "iommu: Default domain type: {}{}",
                          config_.passthrough ? "Passthrough" : "Translated",
                          note(config_.passthrough_cmdline));
    if (behaviour_.print_invalidation_policy && !config_.passthrough)
        core_.log().print(kernel::LogLevel::info, "iommu: DMA domain TLB invalidation policy: {} mode{}",
                          config_.strict ? "strict" : "lazy", note(config_.strict_cmdline));
}

void IommuCore::register_iommu(const std::string& fwnode, IommuDriver& driver)
{
    iommus_[fwnode] = &driver;
}

void IommuCore::unregister_iommu(const std::string& fwnode)
{
    iommus_.erase(fwnode);
}

IommuDriver* IommuCore::iommu_of(const driver_core::Device& dev) const
{
    const auto it = devices_.find(&dev);
    return it == devices_.end() ? nullptr : it->second.iommu;
}

const DeviceIommu* IommuCore::device(const driver_core::Device& dev) const
{
    const auto it = devices_.find(&dev);
    return it == devices_.end() ? nullptr : &it->second;
}

Group* IommuCore::group_of(const driver_core::Device& dev) const
{
    const DeviceIommu* d = device(dev);
    return d ? d->group : nullptr;
}

bool IommuCore::device_iommu_capable(const driver_core::Device& dev, Cap cap) const
{
    // device_iommu_capable(): false for a device without an IOMMU.
    const DeviceIommu* d = device(dev);
    return d && d->iommu && d->iommu->capable(const_cast<driver_core::Device&>(dev), cap);
}

uint64_t IommuCore::pgsize_bitmap(const driver_core::Device& dev) const
{
    const IommuDriver* drv = iommu_of(dev);
    return drv ? drv->pgsize_bitmap() : 0;
}

int IommuCore::dma_configure(driver_core::Device& dev)
{
    // The IOMMU itself is not translated. QEMU's VIOT PCI range covers the virtio-iommu's own requester
    // ID, so viot_dev_iommu_init() is asked and answers -EINVAL ("We're not translating ourself"),
    // before looking for the IOMMU's ops; acpi_iommu_configure_id() logs that with dev_dbg() and the
    // device goes on untranslated (so in the v6.1 and v6.12 sources). QEMU virt's iommu-map leaves
    // the IOMMU's own ID out; what of_iommu_configure() says of it is not modelled.
    if (iommu_nodes_.count(&dev)) {
        if (config_.firmware == Firmware::kAcpiViot)
            dev_dbg(core_.log(), dev, "Adding to IOMMU failed: {}", -kernel::kEINVAL);
        return 0;
    }
    if (devices_.count(&dev))
        return 0; // already probed: iommu_probe_device() finds the group and returns 0
    const auto link = links_.find(&dev);
    if (link == links_.end())
        return 0; // not behind an IOMMU: dma-direct
    const auto drv = iommus_.find(link->second.iommu);
    if (drv == iommus_.end()) {
        if (config_.firmware == Firmware::kAcpiViot) {
            // viot_dev_iommu_init(): "return IS_ENABLED(CONFIG_VIRTIO_IOMMU) ? -EPROBE_DEFER : -ENODEV;"
            // and ACPI never gives up waiting (no driver_deferred_probe_check_state() on this path).
            return config_.iommu_driver_built ? -kernel::kEPROBE_DEFER : 0;
        }
        // of_iommu_xlate(): the IOMMU is an optional supplier; after the deferred-probe timeout the
        // device goes on without it.
        const int ret = core_.deferred_probe_check_state(dev);
        return ret == -kernel::kEPROBE_DEFER ? ret : 0;
    }
    if (int err = probe_device(dev, *drv->second, link->second); err) {
        // acpi_iommu_configure_id()/of_dma_configure_id(): "Historically this routine doesn't fail
        // driver probing": the device goes on with dma-direct.
        dev_dbg(core_.log(), dev, "Adding to IOMMU failed: {}", err);
    }
    return 0;
}

int IommuCore::probe_device(driver_core::Device& dev, IommuDriver& drv, const FirmwareLink& link)
{
    if (int err = drv.probe_device(dev, link.ids); err)
        return err;
    DeviceIommu& di = devices_[&dev];
    di.iommu = &drv;
    di.resv = drv.resv_regions(dev);
    Group* group = pci_.count(&dev) ? pci_device_group(dev) : new_group();
    group->devices_.push_back(&dev);
    di.group = group;
    dev_info(core_.log(), dev, "Adding to iommu group {}", group->id());
    if (!group->default_domain_)
        return setup_default_domain(*group);
    if (group->domain_)
        if (int err = drv.attach_dev(*group->domain_, dev); err)
            return err;
    // Before 0046a4337eae (v6.5) iommu_group_add_device() attached the device to group->domain (above)
    // and iommu_probe_device() then attached it to the default domain again unless the group has a DMA
    // owner: a device joining a group in the default domain got two ATTACHes in a row.
    if (behaviour_.join_attaches_twice && !group->owned_)
        return drv.attach_dev(*group->default_domain_, dev);
    return 0;
}

Group& IommuCore::add_software_group(driver_core::Device& dev)
{
    Group* group = new_group();
    group->devices_.push_back(&dev);
    devices_[&dev].group = group;
    dev_info(core_.log(), dev, "Adding to iommu group {}", group->id());
    return *group;
}

Group* IommuCore::new_group()
{
    // iommu_group_alloc(): the lowest free ID.
    int id = 0;
    while (groups_.count(id))
        ++id;
    core_.log().print(kernel::LogLevel::debug, "iommu: Allocated group {}", id);
    auto g = std::make_unique<Group>(id);
    Group* raw = g.get();
    groups_.emplace(id, std::move(g));
    return raw;
}

driver_core::Device* IommuCore::device_of(const pci::Function* f) const
{
    for (const auto& [dev, fn] : pci_)
        if (fn == f)
            return const_cast<driver_core::Device*>(dev);
    return nullptr;
}

Group* IommuCore::pci_device_group(driver_core::Device& dev)
{
    const pci::Function* fn = pci_.at(&dev);
    // 1. A DMA alias that already has a group shares it (get_pci_alias_or_group() over
    //    pci_for_each_dma_alias()); otherwise remember the last alias device (the upstream bridge).
    const pci::Function* alias_dev = fn;
    for (const pci::Function* b = fn->parent; b; b = b->parent) {
        if (b->kind != pci::Kind::kPcieToPciBridge && b->kind != pci::Kind::kPciBridge)
            continue;
        alias_dev = b;
        if (driver_core::Device* d = device_of(b); d && group_of(*d))
            return group_of(*d);
    }
    // 2. Up from there, devices below a bridge without ACS isolation share the bridge's group.
    for (const pci::Function* up = alias_dev->parent; up; up = up->parent) {
        if (acs_path_enabled(up, config_.acs_requested))
            break;
        if (driver_core::Device* d = device_of(up); d && group_of(*d))
            return group_of(*d);
    }
    // 3. Functions of one slot that do not isolate from each other share a group
    //    (get_pci_function_alias_group()).
    if (alias_dev->multifunction && !acs_enabled(*alias_dev, config_.acs_requested)) {
        for (const auto& [other, f] : pci_) {
            if (f != alias_dev && f->parent == alias_dev->parent && f->bus == alias_dev->bus &&
                f->slot == alias_dev->slot && !acs_enabled(*f, config_.acs_requested))
                if (Group* g = group_of(*other))
                    return g;
        }
    }
    return new_group();
}

int IommuCore::setup_default_domain(Group& group)
{
    driver_core::Device& first = *group.devices_.front();
    IommuDriver& drv = *devices_.at(&first).iommu;
    DomainType type = default_domain_type();
    std::unique_ptr<Domain> dom;
    if (type == DomainType::kDmaFq && behaviour_.lazy_needs_deferred_flush_cap) {
        // Since v6.5 the driver is asked for DMA, and iommu_dma_init_domain() keeps DMA-FQ only with
        // IOMMU_CAP_DEFERRED_FLUSH, silently strict otherwise.
        dom = drv.domain_alloc(DomainType::kDma);
        if (dom && drv.capable(first, Cap::kDeferredFlush))
            dom->set_type(DomainType::kDmaFq);
    } else {
        dom = drv.domain_alloc(type);
    }
    // A driver that refuses DMA-FQ (virtio-iommu from v5.15 bf3aed4660c6 until v6.5 let the core
    // decide) or identity gets a DMA domain, with the warning of iommu_group_alloc_default_domain().
    if (!dom && type != DomainType::kDma) {
        dom = drv.domain_alloc(DomainType::kDma);
        if (dom)
            core_.log().print(kernel::LogLevel::warning,
                              "iommu: Failed to allocate default IOMMU domain of type {} for group (null) - Falling "
                              "back to IOMMU_DOMAIN_DMA",
                              domain_type_number(type));
    }
    if (!dom)
        return -kernel::kENOMEM;
    group.default_domain_ = std::move(dom);
    group.domain_ = group.default_domain_.get();
    return attach_all(group, *group.default_domain_);
}

int IommuCore::attach_all(Group& group, Domain& domain)
{
    for (driver_core::Device* dev : group.devices_)
        if (int err = devices_.at(dev).iommu->attach_dev(domain, *dev); err)
            return err;
    group.domain_ = &domain;
    return 0;
}

void IommuCore::remove_device(driver_core::Device& dev)
{
    const auto it = devices_.find(&dev);
    if (it == devices_.end())
        return;
    if (it->second.iommu)
        it->second.iommu->release_device(dev);
    if (Group* g = it->second.group) {
        std::erase(g->devices_, &dev);
        if (g->devices_.empty())
            groups_.erase(g->id());
    }
    devices_.erase(it);
}

void IommuCore::forget_device(const driver_core::Device& dev)
{
    links_.erase(&dev);
    pci_.erase(&dev);
    iommu_nodes_.erase(&dev);
}

int IommuCore::device_use_default_domain(driver_core::Device& dev)
{
    Group* group = group_of(dev);
    if (!group)
        return 0;
    if (group->owned_)
        return -kernel::kEBUSY;
    ++group->users_;
    return 0;
}

void IommuCore::device_unuse_default_domain(driver_core::Device& dev)
{
    if (Group* group = group_of(dev); group && group->users_)
        --group->users_;
}

int IommuCore::claim_dma_owner(Group& group)
{
    // iommu_group_claim_dma_owner(): refused while anyone uses the group (owner_cnt), then the group
    // moves to a blocking domain, an empty UNMANAGED one when the driver has no blocked domain
    // (__iommu_group_alloc_blocking_domain()).
    if (group.owned_)
        return -kernel::kEBUSY;
    if (group.users_)
        return -kernel::kEPERM;
    IommuDriver& drv = *devices_.at(group.devices_.front()).iommu;
    if (!group.blocking_domain_) {
        group.blocking_domain_ = drv.domain_alloc(DomainType::kBlocked);
        if (!group.blocking_domain_)
            group.blocking_domain_ = drv.domain_alloc(DomainType::kUnmanaged);
        if (!group.blocking_domain_)
            return -kernel::kENOMEM;
    }
    if (int err = attach_all(group, *group.blocking_domain_); err)
        return err;
    group.owned_ = true;
    return 0;
}

void IommuCore::release_dma_owner(Group& group)
{
    if (!group.owned_)
        return;
    group.owned_ = false;
    if (group.default_domain_)
        (void)attach_all(group, *group.default_domain_);
    group.blocking_domain_.reset();
}

std::unique_ptr<Domain> IommuCore::domain_alloc(Group& group, DomainType type)
{
    return devices_.at(group.devices_.front()).iommu->domain_alloc(type);
}

int IommuCore::attach_group(Group& group, Domain& domain)
{
    return attach_all(group, domain);
}

void IommuCore::detach_group(Group& group)
{
    Domain* to = group.owned_ ? group.blocking_domain_.get() : group.default_domain_.get();
    if (to)
        (void)attach_all(group, *to);
}

} // namespace viommu::guest::iommu
