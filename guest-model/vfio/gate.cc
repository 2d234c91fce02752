#include "guest-model/vfio/gate.h"

#include <fmt/format.h>

#include "guest-model/driver-core/dev_printk.h"
#include "guest-model/iommu/dma_api.h"
#include "guest-model/kernel/errno.h"
#include "guest-model/profiles/fact_keys.h"

namespace viommu::guest::vfio {

namespace {

using key = profiles::fact::vfio;

// The user's test buffer: what a VFIO user maps with VFIO_IOMMU_MAP_DMA before its device runs.
constexpr uint64_t kUserSize = 0x4000;
constexpr uint64_t kPage = 0x1000;

// Drivers that leave a group viable (vfio_dev_driver_allowed() before v5.19; driver_managed_dma
// drivers since, 1ea2a07a532b).
bool viable_driver(const driver_core::Device& dev)
{
    if (!dev.bound())
        return true;
    const std::string& name = dev.driver()->name();
    return name == "vfio-pci" || name == "pci-stub" || name == "pcieport";
}

} // namespace

const char* stage_name(Stage stage)
{
    switch (stage) {
    case Stage::kBind: return "bind vfio-pci";
    case Stage::kOpenContainer: return "open /dev/vfio/vfio";
    case Stage::kOpenIommufd: return "open /dev/iommu";
    case Stage::kOpenDeviceCdev: return "open /dev/vfio/devices/vfioN";
    case Stage::kSetContainer: return "VFIO_GROUP_SET_CONTAINER";
    case Stage::kSetIommu: return "VFIO_SET_IOMMU";
    case Stage::kGetDeviceFd: return "VFIO_GROUP_GET_DEVICE_FD";
    case Stage::kIommufdBind: return "VFIO_DEVICE_BIND_IOMMUFD";
    case Stage::kIommufdAttach: return "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
    case Stage::kUse: return "DMA";
    }
    return "?";
}

Gate::Gate(const profiles::Profile& profile, driver_core::DriverCore& core, iommu::IommuCore& iommu, mm::PhysAllocator& ram, GateConfig config)
    : behaviour_(GateBehaviour::from(profile)), core_(core), iommu_(iommu), ram_(ram), config_(config)
{
}

std::string fix_remedy(profiles::FactKey behaviour)
{
    // "a kernel with 91c98fe79414 (iommu/virtio: Fix interaction with VFIO): v6.0, 5.19.9"
    const profiles::Behaviour* b = profiles::FactsTable::builtin().find(behaviour.str());
    if (!b)
        return {};
    std::string releases = "v" + b->release.str();
    for (const profiles::StableBackport& s : b->stable)
        releases += ", " + s.release.str();
    return fmt::format("a kernel with {} ({}): {}", b->commit.substr(0, 12), b->subject, releases);
}

Verdict Gate::refuse(Stage stage, Rule rule, int err, std::string reason)
{
    return refusal(stage, rule, err, std::move(reason));
}

void Gate::load_module()
{
    if (loaded_)
        return;
    loaded_ = true;
    // vfio_init(): pr_info(DRIVER_DESC " version: " DRIVER_VERSION).
    core_.log().print(kernel::LogLevel::info, "VFIO - User Level meta-driver version: 0.3");
}

driver_core::DriverSpec Gate::vfio_pci_driver(driver_core::Bus& pci, std::function<const pci::Function*(const driver_core::Device&)> function_of)
{
    driver_core::DriverSpec spec;
    spec.name = "vfio-pci";
    spec.bus = &pci;
    spec.probe = [this, function_of = std::move(function_of)](driver_core::Device& dev) {
        const pci::Function* fn = function_of(dev);
        return fn ? probe(dev, *fn) : -kernel::kENODEV;
    };
    spec.remove = [this](driver_core::Device& dev) {
        bound_.erase(&dev);
        if (noiommu_.erase(&dev))
            iommu_.remove_device(dev);
    };
    return spec;
}

const Verdict* Gate::bind_verdict(const driver_core::Device& dev) const
{
    const auto it = bound_.find(&dev);
    return it == bound_.end() ? nullptr : &it->second;
}

int Gate::probe(driver_core::Device& dev, const pci::Function& fn)
{
    Verdict& v = bound_[&dev];
    v = {};
    // vfio_pci_probe(): "if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) return -EINVAL;"
    if (pci::is_bridge(fn.kind)) {
        v = refuse(Stage::kBind, Rule::kNormalHeader, kernel::kEINVAL,
                   "vfio-pci drives only functions with a normal (type 0) header; a bridge has a type 1 header");
        v.remedies = {"assign the devices below the bridge, not the bridge"};
        return -kernel::kEINVAL;
    }
    iommu::Group* group = iommu_.group_of(dev);
    if (!group) {
        // vfio_group_find_or_alloc() / vfio_iommu_group_get(): a device without an IOMMU group gets a
        // no-IOMMU group only in no-IOMMU mode, and before a77109ffca33 (v5.19) only while no IOMMU
        // driver claims the bus at all (iommu_present()).
        const bool mode = config_.noiommu_built && config_.enable_unsafe_noiommu_mode && behaviour_.noiommu;
        const bool bus_blocks = !behaviour_.noiommu_ignores_bus_iommu && iommu_on_bus_;
        if (mode && !bus_blocks) {
            iommu::Group& g = iommu_.add_software_group(dev);
            dev_warn(core_.log(), dev, "Adding kernel taint for vfio-noiommu group on device");
            noiommu_.insert(&dev);
            v.admitted = true;
            v.unsafe = true;
            v.rule = Rule::kNoiommu;
            v.commit = behaviour_.commit(key::kNoiommu);
            v.reason = fmt::format("no IOMMU group; no-IOMMU mode gave it group {} (no DMA isolation, kernel tainted)",
                                   g.id());
            return 0;
        }
        v = refuse(Stage::kBind, Rule::kNeedsIommuGroup, kernel::kEINVAL, "the device has no IOMMU group");
        if (mode && bus_blocks) {
            v.reason += "; no-IOMMU mode does not apply while an IOMMU driver serves the PCI bus (before v5.19)";
            v.commit = behaviour_.commit(key::kNoiommuIgnoresBusIommu);
        }
        return -kernel::kEINVAL;
    }
    // e8ae0e140c05 (v5.19): "if (!iommu_capable(dev->bus, IOMMU_CAP_CACHE_COHERENCY)) return -EINVAL"
    // in vfio_group_find_or_alloc(); per device from 3b498b665621 (v6.0); moved into
    // __vfio_register_dev() by 5398be2564eb (v6.6). Silent: only the driver core's probe failure.
    if (behaviour_.requires_cache_coherency && !iommu_.device_iommu_capable(dev, iommu::Cap::kCacheCoherency)) {
        const char* where = behaviour_.coherency_check_in_register_dev ? "__vfio_register_dev()"
                                                                         : "vfio_group_find_or_alloc()";
        if (behaviour_.iommu_reports_coherency) {
            // The driver reports the capability, but not for this device: the device's DMA does not
            // snoop the CPU caches (viommu's experimental extension marked it), which VFIO cannot
            // make safe for its user.
            v = refuse(Stage::kBind, Rule::kRequiresCacheCoherency, kernel::kEINVAL,
                       fmt::format("the IOMMU reports the device's DMA as not cache-coherent: IOMMU_CAP_CACHE_COHERENCY "
                                   "is false for this device alone ({} refuses it)",
                                   where));
            v.commit = behaviour_.commit(key::kRequiresCacheCoherency);
            v.remedies = {"none within VFIO: it assigns only devices whose DMA snoops the CPU caches (e8ae0e140c05); "
                          "let a guest kernel driver use the device instead"};
            return -kernel::kEINVAL;
        }
        v = refuse(Stage::kBind, Rule::kRequiresCacheCoherency, kernel::kEINVAL,
                   fmt::format("the IOMMU does not report IOMMU_CAP_CACHE_COHERENCY for the device ({} refuses it)",
                               where));
        v.commit = behaviour_.commit(key::kRequiresCacheCoherency);
        v.remedies = {fix_remedy(profiles::fact::viommu::kCapCacheCoherency),
                      "a kernel before v5.19, which does not ask (e8ae0e140c05)"};
        return -kernel::kEINVAL;
    }
    v.admitted = true;
    v.rule = Rule::kBind;
    v.reason = fmt::format("bound to vfio-pci in IOMMU group {}", group->id());
    return 0;
}

Verdict Gate::use(driver_core::Device& dev, const DmaCheck& dma)
{
    const Verdict* bound = bind_verdict(dev);
    if (!bound || !bound->admitted || !dev.bound())
        return bound ? *bound : refuse(Stage::kBind, Rule::kBind, kernel::kENODEV, "vfio-pci is not bound to the device");
    if (noiommu_.count(&dev)) {
        // VFIO_SET_IOMMU(VFIO_NOIOMMU_IOMMU): no translation, the user programs physical addresses.
        Verdict v = *bound;
        v.stage = Stage::kUse;
        const auto phys = ram_.alloc(kUserSize, kPage);
        if (!phys)
            return refuse(Stage::kUse, Rule::kNoiommu, kernel::kENOMEM, "no guest memory for the user's buffer");
        if (std::string err = dma(phys->value(), phys->value(), kUserSize); !err.empty()) {
            v.admitted = false;
            v.reason = err;
        }
        ram_.free(*phys, kUserSize);
        return v;
    }
    // The path's device node first: a release or configuration without it is refused with ENOENT.
    if (std::optional<Verdict> refused = open_refusal(config_.backend, config_.paths, behaviour_))
        return *refused;
    iommu::Group* group = iommu_.group_of(dev);
    const Backend path = answering(config_.backend, config_.paths);
    Verdict v = path == Backend::kType1Container ? use_type1(dev, *group, dma) : use_iommufd(dev, *group, dma, path);
    if (path != config_.backend)
        v.reason = fmt::format("/dev/vfio/vfio is iommufd's compat container (CONFIG_VFIO_CONTAINER is not set): {}",
                               v.reason);
    if (v.admitted)
        v.stage = Stage::kUse;
    return v;
}

std::string Gate::non_viable_reason(const iommu::Group& group, const driver_core::Device& dev) const
{
    for (const driver_core::Device* other : group.devices())
        if (other != &dev && !viable_driver(*other))
            return fmt::format("IOMMU group {} is not viable: {} is bound to {}", group.id(), other->name(),
                               other->driver()->name());
    return {};
}

Verdict Gate::use_type1(driver_core::Device& dev, iommu::Group& group, const DmaCheck& dma)
{
    const bool ownership = behaviour_.dma_ownership;
    // VFIO_GROUP_SET_CONTAINER: from 70693f470848 (v5.19) it claims the group's DMA ownership, -EPERM
    // while a kernel driver uses the group; the group moves to a blocking domain.
    if (ownership) {
        if (int err = iommu_.claim_dma_owner(group); err) {
            Verdict v = refuse(Stage::kSetContainer, Rule::kDmaOwnership, -err,
                               err == -kernel::kEPERM ? non_viable_reason(group, dev)
                                              : fmt::format("IOMMU group {} is already owned", group.id()));
            v.commit = behaviour_.commit(key::kDmaOwnership);
            v.remedies = {"unbind the other devices of the group from their drivers, or bind them to vfio-pci too"};
            return v;
        }
    }
    // VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU): vfio_iommu_type1_attach_group() allocates an UNMANAGED domain,
    // attaches the group, and only then checks MSI isolation (the real 6.12 guest sends the ATTACHes
    // even when the ioctl fails with EPERM).
    std::unique_ptr<iommu::Domain> domain = iommu_.domain_alloc(group, iommu::DomainType::kUnmanaged);
    Verdict v;
    if (!domain) {
        v = refuse(Stage::kSetIommu, Rule::kType1Domain, kernel::kEIO, "the IOMMU driver refused an UNMANAGED domain");
    } else if (int err = iommu_.attach_group(group, *domain); err) {
        v = refuse(Stage::kSetIommu, Rule::kType1Attach, -err, "the IOMMU refused to attach the group");
    } else {
        v = check_msi(Stage::kSetIommu, dev, false);
        // VFIO_GROUP_GET_DEVICE_FD before v5.19: vfio_group_viable().
        if (v.admitted && !ownership) {
            if (std::string why = non_viable_reason(group, dev); !why.empty()) {
                v = refuse(Stage::kGetDeviceFd, Rule::kGroupViable, kernel::kEINVAL, why);
                v.remedies = {"unbind the other devices of the group from their drivers, or bind them to vfio-pci too"};
            }
        }
        if (v.admitted) {
            const std::vector<IovaRange> ranges = type1_ranges(group);
            fgsp_probe(group, *domain);
            if (auto failed = dma_through(group, *domain, ranges, dma, "VFIO_IOMMU_MAP_DMA"))
                v = *failed;
            else
                v.iova_ranges = ranges;
        }
        // The container is closed, or the failed attach unwound: back to the blocking domain while owned,
        // to the default one once the ownership is released.
        iommu_.detach_group(group);
    }
    if (ownership)
        iommu_.release_dma_owner(group);
    return v;
}

std::string Gate::isolating_alternative() const
{
    if (config_.msi_platform == MsiPlatform::kArm64)
        return "a platform that isolates MSIs (arm64 with a GICv3 ITS)";
    // On x86 MSIs are isolated by interrupt remapping, which the virtio-iommu does not do: QEMU's
    // intel-iommu does with intremap=on, which needs the split irqchip (libvirt's formatdomain.rst,
    // <driver intremap>: "Currently this requires split I/O APIC (<ioapic driver='qemu'/>)"). Linux's
    // intel IRQ remapping domain then has IRQ_DOMAIN_FLAG_ISOLATED_MSI (before v6.3: the IOMMU reports
    // IOMMU_CAP_INTR_REMAP).
    return "an IOMMU that isolates MSIs by interrupt remapping instead of the virtio-iommu: QEMU's intel-iommu "
           "with intremap=on (libvirt: <iommu model='intel'><driver intremap='on'/></iommu> and <features><ioapic "
           "driver='qemu'/></features>), which viommu does not model";
}

Verdict Gate::check_msi(Stage stage, const driver_core::Device& dev, bool iommufd)
{
    // type1: iommu_group_has_isolated_msi() since 6b1a7a00427c (v6.3), before it
    // irq_domain_check_msi_remap() || IOMMU_CAP_INTR_REMAP, which virtio-iommu never reports; the
    // failure is logged. iommufd: the same test, silent when refused, a warning when overridden.
    Verdict v;
    v.stage = stage;
    v.admitted = true;
    if (iommufd)
        v.rule = behaviour_.iommufd_isolated_msi_at_bind ? Rule::kIommufdIsolatedMsiAtBind : Rule::kIommufd;
    else
        v.rule = behaviour_.type1_isolated_msi ? Rule::kType1IsolatedMsi : Rule::kType1MsiRemap;
    if (const std::optional<profiles::FactKey> fact = rule_fact(v.rule))
        v.commit = behaviour_.commit(*fact);
    const char* param = iommufd ? "iommufd.allow_unsafe_interrupts" : "vfio_iommu_type1.allow_unsafe_interrupts";
    if (config_.msi_isolated) {
        v.reason = "MSIs are isolated by the platform's interrupt controller";
        return v;
    }
    if (iommufd ? config_.iommufd_allow_unsafe_interrupts : config_.allow_unsafe_interrupts) {
        v.unsafe = true;
        v.reason = fmt::format("MSIs are not isolated; allowed by {}=1", param);
        if (iommufd) {
            dev_warn(core_.log(), dev,
                     "MSI interrupts are not secure, they cannot be isolated by the platform. Check that platform "
                     "features like interrupt remapping are enabled. Use the \"allow_unsafe_interrupts\" module "
                     "parameter to override");
            v.log = core_.log().records().back().text;
        }
        return v;
    }
    v.admitted = false;
    v.error = kernel::kEPERM;
    v.reason = fmt::format("MSIs are not isolated (no interrupt remapping) and {} is off", param);
    if (!iommufd) {
        v.log = "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "
                "\"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform";
        core_.log().print(kernel::LogLevel::warning, "{}", v.log);
    }
    v.remedies = {fmt::format("{}=1 (the device can then forge MSIs)", param), isolating_alternative()};
    return v;
}

void Gate::fgsp_probe(iommu::Group& group, iommu::Domain& domain)
{
    // vfio_test_domain_fgsp(): two pages mapped at IOVA 0, one unmapped, to learn whether the IOMMU
    // splits large mappings (virtio-iommu removes the whole mapping: the real 6.12 guest sends
    // MAP [0, 0x1fff] then UNMAP [0, 0x1fff]).
    iommu::IommuDriver* drv = iommu_.iommu_of(*group.devices().front());
    const auto pages = ram_.alloc(2 * kPage, 2 * kPage);
    if (!pages)
        return;
    const int prot = iommu::prot::kRead | iommu::prot::kWrite | iommu::prot::kCache;
    if (iommu::iommu_map(core_.log(), *drv, domain, 0, pages->value(), 2 * kPage, prot) == 0) {
        if (iommu::iommu_unmap(core_.log(), *drv, domain, 0, kPage) == kPage)
            (void)iommu::iommu_unmap(core_.log(), *drv, domain, kPage, kPage);
        drv->iotlb_sync(domain);
    }
    ram_.free(*pages, 2 * kPage);
}

std::vector<IovaRange> Gate::type1_ranges(const iommu::Group& group) const
{
    // iommu_get_group_resv_regions(): the reserved regions of every device of the group.
    std::vector<iommu::ResvRegion> resv;
    for (const driver_core::Device* d : group.devices())
        if (const iommu::DeviceIommu* di = iommu_.device(*d))
            resv.insert(resv.end(), di->resv.begin(), di->resv.end());
    return type1_iova_ranges(iommu_.iommu_of(*group.devices().front())->geometry(), resv);
}

std::optional<Verdict> Gate::dma_through(iommu::Group& group, iommu::Domain& domain,
                                         const std::vector<IovaRange>& ranges, const DmaCheck& dma,
                                         const char* map_ioctl)
{
    // vfio_dma_do_map(): outside the usable ranges is -EINVAL (9b77e5c79840, v5.4), before any pinning.
    if (!iova_dma_valid(ranges, config_.user_iova, config_.user_iova + kUserSize - 1))
        return refuse(Stage::kUse, Rule::kMapDma, kernel::kEINVAL,
                      fmt::format("{} at IOVA {:#x} is outside the container's IOVA ranges", map_ioctl,
                                  config_.user_iova));
    iommu::IommuDriver* drv = iommu_.iommu_of(*group.devices().front());
    const auto phys = ram_.alloc(kUserSize, kPage);
    if (!phys)
        return refuse(Stage::kUse, Rule::kMapDma, kernel::kENOMEM, "no guest memory for the user's buffer");
    std::optional<Verdict> failed;
    const int prot = iommu::prot::kRead | iommu::prot::kWrite | iommu::prot::kCache;
    if (int err = iommu::iommu_map(core_.log(), *drv, domain, config_.user_iova, phys->value(), kUserSize, prot); err) {
        failed = refuse(Stage::kUse, Rule::kMapDma, -err, fmt::format("{} failed", map_ioctl));
    } else {
        if (std::string err = dma(config_.user_iova, phys->value(), kUserSize); !err.empty())
            failed = refuse(Stage::kUse, Rule::kDma, kernel::kEIO, err);
        (void)iommu::iommu_unmap(core_.log(), *drv, domain, config_.user_iova, kUserSize);
        drv->iotlb_sync(domain);
    }
    ram_.free(*phys, kUserSize);
    return failed;
}

Verdict Gate::use_iommufd(driver_core::Device& dev, iommu::Group& group, const DmaCheck& dma, Backend path)
{
    const Stage bind = iommufd_bind_stage(path);
    const Stage attach = iommufd_attach_stage(path);
    // The compat container: VFIO_GROUP_SET_CONTAINER with an iommufd creates the compat IOAS and
    // VFIO_SET_IOMMU(TYPE1v2) only checks it exists (iommufd_vfio_set_iommu()); neither fails here.
    // Opening iommufd's /dev/vfio/vfio says so once (iommufd_fops_open()).
    if (path == Backend::kIommufdCompat && config_.paths.iommufd_vfio_container && !compat_announced_) {
        compat_announced_ = true;
        core_.log().print(kernel::LogLevel::info, "iommufd: IOMMUFD is providing /dev/vfio/vfio, not VFIO.");
    }
    // iommufd_device_bind(): "iommufd always sets IOMMU_CACHE", so coherency first (-EINVAL); then,
    // from v6.6, MSI isolation; then the DMA ownership of the device's group.
    if (!iommu_.device_iommu_capable(dev, iommu::Cap::kCacheCoherency)) {
        Verdict v = refuse(bind, Rule::kIommufd, kernel::kEINVAL,
                           "the IOMMU does not report IOMMU_CAP_CACHE_COHERENCY for the device");
        v.commit = behaviour_.commit(key::kIommufd);
        return v;
    }
    const bool msi_at_bind = behaviour_.iommufd_isolated_msi_at_bind;
    Verdict v;
    if (msi_at_bind) {
        v = check_msi(bind, dev, true);
        if (!v.admitted)
            return v;
    }
    if (int err = iommu_.claim_dma_owner(group); err) {
        Verdict r = refuse(bind, Rule::kIommuDmaOwnership, -err, non_viable_reason(group, dev));
        r.commit = behaviour_.commit(profiles::fact::iommu::kDmaOwnership);
        r.remedies = {"unbind the other devices of the group from their drivers, or bind them to vfio-pci too"};
        return r;
    }
    // iommufd_device_attach() (before v6.6 the MSI test sits here, in iommufd_device_setup_msi()).
    if (!msi_at_bind)
        v = check_msi(attach, dev, true);
    if (v.admitted) {
        std::unique_ptr<iommu::Domain> domain = iommu_.domain_alloc(group, iommu::DomainType::kUnmanaged);
        if (!domain) {
            v = refuse(attach, Rule::kIommufd, kernel::kEIO, "the IOMMU driver refused an UNMANAGED domain");
        } else if (int err = iommu_.attach_group(group, *domain); err) {
            v = refuse(attach, Rule::kIommufd, -err, "the IOMMU refused to attach the group");
        } else {
            // The compat container maps with VFIO_IOMMU_MAP_DMA (iommufd_vfio_map_dma()), the cdev's
            // user with IOMMU_IOAS_MAP on the IOAS it allocated (IOMMU_IOAS_ALLOC cannot fail here).
            // IOMMU_IOAS_MAP's own check of reserved ranges (iopt_reserve_iova()) is not modelled here:
            // the whole IOVA space is offered.
            const char* map = path == Backend::kIommufd ? "IOMMU_IOAS_MAP" : "VFIO_IOMMU_MAP_DMA";
            if (auto failed = dma_through(group, *domain, {{0, UINT64_MAX}}, dma, map))
                v = *failed;
            iommu_.detach_group(group);
        }
    }
    iommu_.release_dma_owner(group);
    return v;
}

} // namespace viommu::guest::vfio
