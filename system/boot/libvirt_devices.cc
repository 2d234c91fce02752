// Each device element of <devices> to the family that classifies it (libvirt_device_model.h lists them),
// the small virtio devices that need no table, and how warnings name an element.
#include "system/boot/libvirt_devices.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "system/boot/libvirt_device_model.h"
#include "system/boot/libxml.h"

namespace viommu::system::boot {

using device_model::controller;
using device_model::disk;
using device_model::function;
using device_model::host_address;
using device_model::hostdev;
using device_model::interface;
using device_model::iommu_on;
using device_model::needs_controller;
using device_model::not_modelled;
using device_model::sound;
using device_model::video;
using device_model::virtio;

namespace {

std::optional<PciDevice> input(const xmlNode* device)
{
    if (xml::attr(device, "bus") != "virtio")
        return std::nullopt; // ps2, usb, xen, evdev: not PCI functions
    const std::string type = xml::attr_or(device, "type", "");
    PciDevice d = virtio(type == "passthrough" ? "virtio-input-host-pci" : fmt::format("virtio-{}-pci", type));
    d.iommu_platform = iommu_on(device);
    return d;
}

// A virtio device named by model='virtio' (or its transitional variants), none otherwise.
std::optional<PciDevice> virtio_model(const xmlNode* device, const std::string& what, std::string_view qemu,
                                      std::vector<std::string>& warnings, bool non_virtio_is_pci = false)
{
    const std::string model = xml::attr_or(device, "model", "");
    if (model == "virtio" || model == "virtio-transitional" || model == "virtio-non-transitional") {
        PciDevice d = virtio(std::string(qemu));
        d.iommu_platform = iommu_on(device);
        return d;
    }
    if (non_virtio_is_pci)
        return not_modelled(what, fmt::format("model '{}' is not a PCI device viommu knows", model), warnings);
    return std::nullopt;
}

} // namespace

std::string describe_device(const xmlNode* device, int ordinal)
{
    const std::string element = xml::name(device);
    if (element == "disk") {
        if (const std::optional<std::string> dev = xml::attr(xml::first_child(device, "target"), "dev"))
            return fmt::format("<disk> {}", *dev);
    }
    const bool pci_hostdev = element == "hostdev" ? xml::attr(device, "type") == "pci"
                                                  : element == "interface" && xml::attr(device, "type") == "hostdev";
    if (pci_hostdev) {
        if (const std::optional<PciAddress> host = host_address(device))
            return fmt::format("<{}> {}", element, host->to_string());
    }
    if (element == "hostdev")
        return fmt::format("<hostdev type='{}'> #{}", xml::attr_or(device, "type", ""), ordinal);
    if (element == "controller") {
        std::string out = fmt::format("<controller type='{}' index='{}'", xml::attr_or(device, "type", ""),
                                      xml::attr_or(device, "index", "0"));
        if (const std::optional<std::string> model = xml::attr(device, "model"))
            out += fmt::format(" model='{}'", *model);
        return out + ">";
    }
    if (element == "iommu")
        return fmt::format("<iommu model='{}'>", xml::attr_or(device, "model", ""));
    if (element == "interface")
        return fmt::format("<interface type='{}'> #{}", xml::attr_or(device, "type", ""), ordinal);
    return fmt::format("<{}> #{}", element, ordinal);
}

std::optional<PciDevice> classify_device(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                         std::vector<std::string>& warnings)
{
    const std::string element = xml::name(device);
    if (element == "disk")
        return disk(device, what, ctx, warnings);
    if (element == "interface")
        return interface(device, what, ctx, warnings);
    if (element == "controller")
        return controller(device, what, ctx, warnings);
    if (element == "hostdev") {
        if (xml::attr(device, "mode") == "subsystem" && xml::attr(device, "type") == "pci")
            return hostdev(device, what, warnings);
        return not_modelled(what, "only PCI host devices (mode='subsystem' type='pci') are", warnings);
    }
    if (element == "video")
        return video(device, what, warnings);
    if (element == "input")
        return input(device);
    if (element == "rng")
        return virtio_model(device, what, "virtio-rng-pci", warnings);
    if (element == "memballoon")
        return virtio_model(device, what, "virtio-balloon-pci", warnings);
    if (element == "vsock")
        return virtio_model(device, what, "vhost-vsock-pci", warnings);
    if (element == "crypto")
        return virtio_model(device, what, "virtio-crypto-pci", warnings, true);
    if (element == "filesystem") {
        const bool virtiofs = xml::attr(xml::first_child(device, "driver"), "type") == "virtiofs";
        PciDevice d = virtio(virtiofs ? "vhost-user-fs-pci" : "virtio-9p-pci");
        d.iommu_platform = iommu_on(device);
        return d;
    }
    if (element == "memory") {
        const std::string model = xml::attr_or(device, "model", "");
        if (model == "virtio-pmem" || model == "virtio-mem")
            return virtio(model + "-pci");
        return std::nullopt; // dimm, nvdimm, sgx-epc: memory, not PCI functions
    }
    if (element == "sound")
        return sound(device, what, warnings);
    if (element == "watchdog") {
        if (xml::attr(device, "model") == "i6300esb")
            return function("i6300esb", Role::kEmulated, "i6300ESB timer"); // i6300esb.c ESB_MODULE_NAME
        return std::nullopt; // ib700 (ISA), itco (in q35's LPC), diag288 (s390)
    }
    if (element == "shmem") {
        // ivshmem (1af4:1110): no driver in mainline Linux binds to it.
        return function(xml::attr_or(xml::first_child(device, "model"), "type", "ivshmem-plain"), Role::kEmulated);
    }
    if (element == "serial") {
        if (xml::attr(xml::first_child(device, "target"), "type") == "pci-serial")
            return function("pci-serial", Role::kEmulated, "serial"); // drivers/tty/serial/8250/8250_pci.c
        return std::nullopt;
    }
    if (element == "channel" || element == "console") {
        if (xml::attr(xml::first_child(device, "target"), "type") == "virtio")
            needs_controller(ctx, "virtio-serial", what, warnings);
        return std::nullopt;
    }
    // No bearing on PCI or the IOMMU: ISA, USB, character and display back ends, firmware interfaces.
    static constexpr std::array kSilent{"emulator", "graphics", "audio", "parallel", "smartcard", "hub", "redirdev",
                                        "redirfilter", "tpm", "panic", "nvram", "lease"};
    if (std::find(kSilent.begin(), kSilent.end(), element) != kSilent.end())
        return std::nullopt;
    return not_modelled(what, "viommu does not know this device element", warnings);
}

} // namespace viommu::system::boot
