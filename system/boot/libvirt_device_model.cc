// The PciDevice a model table row or a label makes, and the warnings the families share.
#include "system/boot/libvirt_device_model.h"

#include <fmt/format.h>

#include "system/boot/libxml.h"

namespace viommu::system::boot::device_model {

PciDevice function(std::string label, Role role, std::string driver)
{
    PciDevice d;
    d.label = std::move(label);
    d.role = role;
    d.guest_driver = std::move(driver);
    return d;
}

PciDevice from_model(const Model& m)
{
    return function(std::string(m.qemu), m.role, std::string(m.driver));
}

PciDevice virtio(std::string label, Role role)
{
    return function(std::move(label), role);
}

bool iommu_on(const xmlNode* device)
{
    return xml::attr(xml::first_child(device, "driver"), "iommu") == "on";
}

namespace {

bool has_controller(const DeviceContext& ctx, std::string_view type)
{
    return std::find(ctx.controller_types.begin(), ctx.controller_types.end(), type) != ctx.controller_types.end();
}

} // namespace

// A device on a bus whose controller the document lacks: libvirt's QEMU driver adds the controller on
// its own (qemuDomainDefAddImplicitControllers()), the test driver does not, so neither does the model.
void needs_controller(const DeviceContext& ctx, std::string_view type, const std::string& what,
                      std::vector<std::string>& warnings)
{
    if (!has_controller(ctx, type))
        warnings.push_back(fmt::format("{} needs a <controller type='{}'>, which the document lacks; libvirt's QEMU "
                                       "driver would add one, the model does not",
                                       what, type));
}

std::optional<PciDevice> not_modelled(const std::string& what, std::string_view why, std::vector<std::string>& warnings)
{
    warnings.push_back(fmt::format("{} is not modelled: {}", what, why));
    return std::nullopt;
}

} // namespace viommu::system::boot::device_model
