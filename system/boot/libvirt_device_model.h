// What libvirt_devices.cc's families share: the model tables' rows, the PciDevice each makes, the
// warnings they give, and each family's classifier, one file each:
//   libvirt_hostdev.cc      <hostdev> (and <interface type='hostdev'>): a host PCI function
//   libvirt_net.cc          <interface>: NIC models
//   libvirt_controllers.cc  <controller> other than PCI, and the <disk>s that sit on them
//   libvirt_video_sound.cc  <video> and <sound> models
// Internal to system/boot.
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "system/boot/libvirt_devices.h"

namespace viommu::system::boot::device_model {

// One libvirt model value: the QEMU device libvirt's QEMU driver creates for it (src/qemu/
// qemu_command.c) and, for emulated devices, the name of the Linux pci_driver that binds to it (what
// /sys/bus/pci/drivers and `lspci -k` show). Virtio devices are bound by virtio-pci, by role.
struct Model {
    std::string_view xml;
    std::string_view qemu;
    Role role;
    std::string_view driver;
};

template <size_t N>
const Model* find_model(const std::array<Model, N>& table, std::string_view xml)
{
    const auto it = std::find_if(table.begin(), table.end(), [&](const Model& m) { return m.xml == xml; });
    return it == table.end() ? nullptr : &*it;
}

// The function a QEMU device makes: its label, role and guest driver.
PciDevice function(std::string label, Role role, std::string driver = "");
PciDevice from_model(const Model& m);
PciDevice virtio(std::string label, Role role = Role::kVirtioOther);

// <driver iommu='on'/>: the virtio option that becomes QEMU's iommu_platform=on (VIRTIO_F_ACCESS_PLATFORM).
bool iommu_on(const xmlNode* device);

// Warns when the document lacks the <controller type='T'> the device `what` sits on.
void needs_controller(const DeviceContext& ctx, std::string_view type, const std::string& what,
                      std::vector<std::string>& warnings);

// Warns that `what` is not modelled, because `why`; none.
std::optional<PciDevice> not_modelled(const std::string& what, std::string_view why, std::vector<std::string>& warnings);

// The host function of <source><address domain bus slot function/> (all optional, default 0: the
// schema's pciaddress, bridge-and-libvirt.md §2.3).
std::optional<PciAddress> host_address(const xmlNode* device);

std::optional<PciDevice> hostdev(const xmlNode* device, const std::string& what, std::vector<std::string>& warnings);
std::optional<PciDevice> interface(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                   std::vector<std::string>& warnings);
std::optional<PciDevice> disk(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                              std::vector<std::string>& warnings);
std::optional<PciDevice> controller(const xmlNode* device, const std::string& what, const DeviceContext& ctx,
                                    std::vector<std::string>& warnings);
std::optional<PciDevice> video(const xmlNode* device, const std::string& what, std::vector<std::string>& warnings);
std::optional<PciDevice> sound(const xmlNode* device, const std::string& what, std::vector<std::string>& warnings);

} // namespace viommu::system::boot::device_model
