// <hostdev mode='subsystem' type='pci'> and <interface type='hostdev'>: a host PCI function assigned to
// the guest.
#include "system/boot/libvirt_device_model.h"

#include <fmt/format.h>

#include "base/parse.h"
#include "system/boot/libxml.h"

namespace viommu::system::boot::device_model {

std::optional<PciAddress> host_address(const xmlNode* device)
{
    const xmlNode* a = xml::first_child(xml::first_child(device, "source"), "address");
    if (!a)
        return std::nullopt;
    const auto field = [&](const char* name) -> std::optional<uint64_t> {
        const std::optional<std::string> v = xml::attr(a, name);
        if (!v)
            return 0;
        const auto n = parse_u64(*v);
        return n ? std::optional<uint64_t>(*n) : std::nullopt;
    };
    const auto domain = field("domain"), bus = field("bus"), slot = field("slot"), function = field("function");
    if (!domain || !bus || !slot || !function)
        return std::nullopt;
    const auto address = PciAddress::from_fields(*domain, *bus, *slot, *function);
    return address ? std::optional<PciAddress>(*address) : std::nullopt;
}

std::optional<PciDevice> hostdev(const xmlNode* device, const std::string& what, std::vector<std::string>& warnings)
{
    const std::optional<PciAddress> host = host_address(device);
    if (!host)
        return not_modelled(what, "its <source><address> is not a host PCI address", warnings);
    // The backend: vfio unless <driver name> says otherwise; libvirt's QEMU driver has used VFIO by
    // default since 1.x and no longer supports the others.
    const std::string backend = xml::attr_or(xml::first_child(device, "driver"), "name", "vfio");
    if (backend != "vfio" && backend != "default")
        warnings.push_back(fmt::format("{} asks for device assignment backend '{}'; the model assigns it with VFIO",
                                       what, backend));
    // guest_driver and vfio are the metadata's to change (libvirt_pci.cc).
    PciDevice d = function("vfio-pci", Role::kHostdev, "vfio-pci");
    d.host_address = host;
    return d;
}

} // namespace viommu::system::boot::device_model
