#include "system/boot/live_guest.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "base/pci_address.h"
#include "system/boot/boot.h"

namespace viommu::system::boot {

namespace {

// QEMU's root bus on q35 and on the arm64 virt machine: its slots take no hot-plug.
constexpr const char* kRootBus = "pcie.0";

} // namespace

bool qdev_id_wellformed(const std::string& id)
{
    if (id.empty() || !std::isalpha(static_cast<unsigned char>(id[0])))
        return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    });
}

namespace {

PlugError refused(std::string message)
{
    return {false, std::move(message)};
}

PlugError unknown_model(const std::string& driver)
{
    return refused(fmt::format("'{}' is not a valid device model name (viommu hot-plugs vfio-pci and virtio-net-pci)",
                               driver));
}

} // namespace

LiveGuest::LiveGuest(GuestSpec spec, guest::profiles::Profile profile, BootOptions options)
    : spec_(std::move(spec)), profile_(std::move(profile)), options_(std::move(options))
{
    if (!spec_.not_modelled.empty())
        throw std::invalid_argument("the guest is not modelled: " + spec_.not_modelled);
    if (const auto problems = iommu_option_problems(spec_, options_); !problems.empty())
        throw std::invalid_argument(problems.front());
    boot_ = std::make_unique<Boot>(spec_, profile_, options_);
    boot_->boot();
}

LiveGuest::~LiveGuest() = default;

GuestReport LiveGuest::report()
{
    return boot_->report();
}

const std::list<Function>& LiveGuest::functions() const
{
    return boot_->board().functions();
}

const hw::virtio_iommu::VirtioIommu* LiveGuest::iommu() const
{
    return boot_->board().iommu();
}

Function* LiveGuest::find(const std::string& id)
{
    for (Function& f : boot_->board().functions())
        if (!id.empty() && f.desc->qdev_id == id)
            return &f;
    return nullptr;
}

Expected<FunctionDesc, PlugError> LiveGuest::describe(const PlugRequest& request) const
{
    FunctionDesc d;
    d.pci.kind = guest::pci::Kind::kPcieEndpoint;
    d.qdev_id = request.id;
    if (request.driver == "vfio-pci") {
        // vfio_realize(): "No provided host device", with the hint of the two ways to name one.
        if (request.host.empty())
            return unexpected(refused("No provided host device"));
        const auto host = PciAddress::parse(request.host);
        if (!host)
            return unexpected(refused(fmt::format("Property 'vfio-pci.host' doesn't take value '{}'", request.host)));
        d.role = Role::kHostdev;
        d.pci.label = "vfio-pci";
        d.guest_driver = "vfio-pci";
        d.vfio = true; // the guest's user binds vfio-pci to it, as to a hostdev at boot
        d.source = fmt::format("device_add {} {}", host->to_string(), request.id);
        // Its host IOMMU, as the description gives it (<viommu:host-iommu hotplug='yes'>); unknown: the
        // device's own mask and regions stand, as for a boot-time hostdev without one.
        for (const HotplugHost& h : spec_.hotplug_hosts)
            if (h.address == *host)
                d.host_iommu = h.host_iommu;
        return d;
    }
    if (request.driver == "virtio-net-pci") {
        d.role = Role::kVirtioNet;
        d.pci.label = "virtio-net-pci";
        d.iommu_platform = request.iommu_platform;
        d.source = fmt::format("device_add virtio-net-pci {}", request.id);
        return d;
    }
    return unexpected(unknown_model(request.driver));
}

Expected<DeviceReport, PlugError> LiveGuest::device_add(const PlugRequest& request)
{
    // qdev_device_add_from_qdict(), in the order QEMU 7.2.22 was seen to refuse: the ID's form (QemuOpts),
    // the device model, the bus, the ID's uniqueness (qdev_set_id()), the properties, then the device's
    // own checks.
    if (!request.id.empty() && !qdev_id_wellformed(request.id))
        return unexpected(refused("Parameter 'id' expects an identifier"));
    if (request.driver != "vfio-pci" && request.driver != "virtio-net-pci")
        return unexpected(unknown_model(request.driver));
    const std::string bus = request.bus.empty() ? kRootBus : request.bus;
    if (bus == kRootBus)
        return unexpected(refused(fmt::format("Bus '{}' does not support hotplugging", bus)));
    Function* port = find(bus);
    if (!port || !guest::pci::is_bridge(port->pci->kind))
        return unexpected(refused(fmt::format("Bus '{}' not found", bus)));
    if (find(request.id))
        return unexpected(refused(fmt::format("Duplicate device ID '{}'", request.id)));
    if (!request.property_error.empty())
        return unexpected(refused(request.property_error));
    auto desc = describe(request);
    if (!desc)
        return unexpected(desc.error());
    auto added = boot_->hot_add(*desc, *port);
    if (!added)
        return unexpected(refused(added.error()));
    const GuestReport now = report();
    const std::string bdf = (*added)->pci->bdf();
    for (const DeviceReport& d : now.devices)
        if (d.bdf == bdf)
            return d;
    return DeviceReport{};
}

Expected<void, PlugError> LiveGuest::device_del(const std::string& id)
{
    Function* f = find(id);
    if (!f)
        return unexpected(PlugError{true, fmt::format("Device '{}' not found", id)});
    // qdev_unplug(): the bus the device sits on must take hot-unplug; the root bus does not.
    if (!f->pci->parent)
        return unexpected(refused(fmt::format("Bus '{}' does not support hotplugging", kRootBus)));
    if (guest::pci::is_bridge(f->pci->kind) || f->pci->parent->kind != guest::pci::Kind::kRootPort)
        return unexpected(refused(fmt::format("viommu models the unplug of a function in a pcie-root-port only; "
                                              "'{}' is not one",
                                              id)));
    boot_->hot_remove(*f);
    return {};
}

std::string LiveGuest::inject_fault(const hw::virtio_iommu::FaultRecord& fault)
{
    return boot_->inject_fault(fault);
}

} // namespace viommu::system::boot
