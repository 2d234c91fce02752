// <video> and <sound>: the display and audio models libvirt's QEMU driver makes PCI functions of.
#include "system/boot/libvirt_device_model.h"

#include <fmt/format.h>

#include "system/boot/libxml.h"

namespace viommu::system::boot::device_model {

namespace {

constexpr std::array kVideoModels{
    Model{"virtio", "virtio-gpu-pci", Role::kVirtioOther, ""},
    // QEMU's VGA and bochs-display (1234:1111) are driven by drivers/gpu/drm/tiny/bochs.c.
    Model{"vga", "VGA", Role::kEmulated, "bochs-drm"},
    Model{"bochs", "bochs-display", Role::kEmulated, "bochs-drm"},
    Model{"qxl", "qxl-vga", Role::kEmulated, "qxl"},
    Model{"cirrus", "cirrus-vga", Role::kEmulated, "cirrus"},
    Model{"vmvga", "vmware-svga", Role::kEmulated, "vmwgfx"},
};

constexpr std::array kSoundModels{
    Model{"ich6", "intel-hda", Role::kEmulated, "snd_hda_intel"},
    Model{"ich7", "intel-hda", Role::kEmulated, "snd_hda_intel"},
    Model{"ich9", "ich9-intel-hda", Role::kEmulated, "snd_hda_intel"},
    Model{"ac97", "AC97", Role::kEmulated, "snd_intel8x0"},
    Model{"es1370", "ES1370", Role::kEmulated, "snd_ens1370"},
};

} // namespace

std::optional<PciDevice> video(const xmlNode* device, const std::string& what, std::vector<std::string>& warnings)
{
    const std::string type = xml::attr_or(xml::first_child(device, "model"), "type", "");
    if (type == "none" || type == "ramfb" || type == "xen")
        return std::nullopt; // no PCI function
    const Model* m = find_model(kVideoModels, type);
    if (!m)
        return not_modelled(what, fmt::format("video model '{}' is not a PCI device viommu knows", type), warnings);
    PciDevice d = from_model(*m);
    d.iommu_platform = m->role == Role::kVirtioOther && iommu_on(device);
    return d;
}

std::optional<PciDevice> sound(const xmlNode* device, const std::string& what, std::vector<std::string>& warnings)
{
    const std::string model = xml::attr_or(device, "model", "");
    if (const Model* m = find_model(kSoundModels, model))
        return from_model(*m);
    if (model == "sb16" || model == "pcspk" || model == "usb")
        return std::nullopt; // ISA or USB
    return not_modelled(what, fmt::format("sound model '{}' is not a PCI device viommu knows", model), warnings);
}

} // namespace viommu::system::boot::device_model
