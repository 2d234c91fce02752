#include "system/boot/libvirt_devices.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "base/parse.h"
#include "system/boot/libxml.h"

namespace viommu::system::boot {

namespace {

// One libvirt model value: the QEMU device libvirt's QEMU driver creates for it (src/qemu/
// qemu_command.c) and, for emulated devices, the name of the Linux pci_driver that binds to it (what
// /sys/bus/pci/drivers and `lspci -k` show). Virtio devices are bound by virtio-pci, by role.
struct Model {
    std::string_view xml;
    std::string_view qemu;
    Role role;
    std::string_view driver;
};

constexpr std::array kNetModels{
    Model{"virtio", "virtio-net-pci", Role::kVirtioNet, ""},
    Model{"virtio-transitional", "virtio-net-pci-transitional", Role::kVirtioNet, ""},
    Model{"virtio-non-transitional", "virtio-net-pci-non-transitional", Role::kVirtioNet, ""},
    Model{"e1000", "e1000", Role::kEmulated, "e1000"},
    Model{"e1000e", "e1000e", Role::kEmulated, "e1000e"},
    Model{"igb", "igb", Role::kEmulated, "igb"},
    // QEMU's rtl8139 reports revision 0x20 (RTL8139_PCI_REVID), which 8139too declines as "an enhanced
    // 8139C+ chip, use 8139cp" (drivers/net/ethernet/realtek/8139too.c rtl8139_init_one()).
    Model{"rtl8139", "rtl8139", Role::kEmulated, "8139cp"},
    Model{"vmxnet3", "vmxnet3", Role::kEmulated, "vmxnet3"},
    Model{"pcnet", "pcnet", Role::kEmulated, "pcnet32"},
    Model{"ne2k_pci", "ne2k_pci", Role::kEmulated, "ne2k-pci"},
    Model{"i82551", "i82551", Role::kEmulated, "e100"},
    Model{"i82557b", "i82557b", Role::kEmulated, "e100"},
    Model{"i82559er", "i82559er", Role::kEmulated, "e100"},
};

constexpr std::array kUsbModels{
    Model{"qemu-xhci", "qemu-xhci", Role::kEmulated, "xhci_hcd"},
    Model{"nec-xhci", "nec-usb-xhci", Role::kEmulated, "xhci_hcd"},
    Model{"ich9-ehci1", "ich9-usb-ehci1", Role::kEmulated, "ehci-pci"},
    Model{"ich9-uhci1", "ich9-usb-uhci1", Role::kEmulated, "uhci_hcd"},
    Model{"ich9-uhci2", "ich9-usb-uhci2", Role::kEmulated, "uhci_hcd"},
    Model{"ich9-uhci3", "ich9-usb-uhci3", Role::kEmulated, "uhci_hcd"},
    Model{"piix3-uhci", "piix3-usb-uhci", Role::kEmulated, "uhci_hcd"},
    Model{"piix4-uhci", "piix4-usb-uhci", Role::kEmulated, "uhci_hcd"},
    Model{"vt82c686b-uhci", "vt82c686b-usb-uhci", Role::kEmulated, "uhci_hcd"},
    Model{"pci-ohci", "pci-ohci", Role::kEmulated, "ohci-pci"},
};

constexpr std::array kScsiModels{
    Model{"virtio-scsi", "virtio-scsi-pci", Role::kVirtioOther, ""},
    Model{"virtio-transitional", "virtio-scsi-pci-transitional", Role::kVirtioOther, ""},
    Model{"virtio-non-transitional", "virtio-scsi-pci-non-transitional", Role::kVirtioOther, ""},
    Model{"lsilogic", "lsi", Role::kEmulated, "sym53c8xx"},
    Model{"lsisas1068", "mptsas1068", Role::kEmulated, "mptsas"},
    Model{"lsisas1078", "megasas", Role::kEmulated, "megaraid_sas"},
    Model{"vmpvscsi", "pvscsi", Role::kEmulated, "vmw_pvscsi"},
    Model{"am53c974", "am53c974", Role::kEmulated, "am53c974"},
};

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

template <size_t N>
const Model* find_model(const std::array<Model, N>& table, std::string_view xml)
{
    const auto it = std::find_if(table.begin(), table.end(), [&](const Model& m) { return m.xml == xml; });
    return it == table.end() ? nullptr : &*it;
}

PciDevice function(std::string label, Role role, std::string driver = "")
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

PciDevice virtio(std::string label, Role role = Role::kVirtioOther)
{
    return function(std::move(label), role);
}

// <driver iommu='on'/>: the virtio option that becomes QEMU's iommu_platform=on (VIRTIO_F_ACCESS_PLATFORM).
bool iommu_on(const xmlNode* device)
{
    return xml::attr(xml::first_child(device, "driver"), "iommu") == "on";
}

bool has_controller(const DeviceContext& ctx, std::string_view type)
{
    return std::find(ctx.controller_types.begin(), ctx.controller_types.end(), type) != ctx.controller_types.end();
}

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

// The host function of <source><address domain bus slot function/> (all optional, default 0: the
// schema's pciaddress, bridge-and-libvirt.md §2.3).
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
    // guest_driver and vfio are the metadata's to change (libvirt_domain_map.cc).
    PciDevice d = function("vfio-pci", Role::kHostdev, "vfio-pci");
    d.host_address = host;
    return d;
}

std::optional<PciDevice> interface(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                   std::vector<std::string>& warnings)
{
    if (xml::attr(device, "type") == "hostdev")
        return hostdev(device, what, warnings);
    std::optional<std::string> model = xml::attr(xml::first_child(device, "model"), "type");
    if (!model) {
        // qemuDomainDefaultNetModel(): virtio on ARM virt; on x86 the first of rtl8139, e1000, ... that
        // QEMU has, which is rtl8139 for every QEMU Debian ships.
        model = ctx.machine == MachineType::kVirt ? "virtio" : "rtl8139";
        warnings.push_back(fmt::format("{} has no <model>; libvirt's QEMU driver picks {}, and so does the model",
                                       what, *model));
    }
    const Model* m = find_model(kNetModels, *model);
    if (!m)
        return not_modelled(what, fmt::format("NIC model '{}' is not a PCI device viommu knows", *model), warnings);
    PciDevice d = from_model(*m);
    d.iommu_platform = m->role == Role::kVirtioNet && iommu_on(device);
    return d;
}

std::optional<PciDevice> disk(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                              std::vector<std::string>& warnings)
{
    const std::string bus = xml::attr_or(xml::first_child(device, "target"), "bus", "");
    if (bus == "virtio") {
        PciDevice d = virtio("virtio-blk-pci", Role::kVirtioBlk);
        d.iommu_platform = iommu_on(device);
        return d;
    }
    // Other disks sit on a controller that is a PCI function of its own (or none: fdc, usb storage).
    if (bus == "sata" || bus == "scsi" || bus == "ide")
        needs_controller(ctx, bus, what, warnings);
    return std::nullopt;
}

std::optional<PciDevice> controller(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                    std::vector<std::string>& warnings)
{
    const std::string type = xml::attr_or(device, "type", "");
    const std::optional<std::string> model = xml::attr(device, "model");
    const std::string index = xml::attr_or(device, "index", "0");
    if (type == "sata") {
        // q35's ICH9 AHCI at 00:1f.2 is libvirt's implicit sata controller index 0 (the machine's
        // built-in, added by libvirt_domain_map.cc).
        if (ctx.machine == MachineType::kQ35 && index == "0")
            return std::nullopt;
        return function("ich9-ahci", Role::kEmulated, "ahci");
    }
    if (type == "ide") {
        if (ctx.machine == MachineType::kPc && index == "0")
            return std::nullopt; // PIIX3's IDE function 00:01.1, built in
        return not_modelled(what, "only the i440fx machine's built-in IDE controller exists in QEMU", warnings);
    }
    if (type == "virtio-serial") {
        PciDevice d = virtio("virtio-serial-pci");
        d.iommu_platform = iommu_on(device);
        return d;
    }
    if (type == "usb") {
        if (model == "none")
            return std::nullopt;
        std::string chosen = model.value_or(ctx.machine == MachineType::kPc ? "piix3-uhci" : "qemu-xhci");
        if (!model)
            warnings.push_back(fmt::format("{} has no model; libvirt's QEMU driver chooses one from QEMU's "
                                           "capabilities; modelled as {}",
                                           what, chosen));
        const Model* m = find_model(kUsbModels, chosen);
        if (!m)
            return not_modelled(what, fmt::format("USB controller model '{}' is not a PCI device viommu knows", chosen),
                                warnings);
        return from_model(*m);
    }
    if (type == "scsi") {
        if (!model)
            return not_modelled(what, "libvirt's QEMU driver picks the SCSI model from QEMU's capabilities; say "
                                      "model='virtio-scsi' or another",
                                warnings);
        const Model* m = find_model(kScsiModels, *model);
        if (!m)
            return not_modelled(what, fmt::format("SCSI controller model '{}' is not a PCI device viommu knows", *model),
                                warnings);
        PciDevice d = from_model(*m);
        d.iommu_platform = m->role == Role::kVirtioOther && iommu_on(device);
        return d;
    }
    // fdc, isa, ccid, xenbus: not on PCI. (type='pci' never reaches here.)
    if (type == "fdc" || type == "isa" || type == "ccid" || type == "xenbus")
        return std::nullopt;
    return not_modelled(what, fmt::format("controller type '{}' is not one viommu knows", type), warnings);
}

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
    if (element == "sound") {
        const std::string model = xml::attr_or(device, "model", "");
        if (const Model* m = find_model(kSoundModels, model))
            return from_model(*m);
        if (model == "sb16" || model == "pcspk" || model == "usb")
            return std::nullopt; // ISA or USB
        return not_modelled(what, fmt::format("sound model '{}' is not a PCI device viommu knows", model), warnings);
    }
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
