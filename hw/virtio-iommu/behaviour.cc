#include "hw/virtio-iommu/behaviour.h"

namespace viommu::hw::virtio_iommu {

namespace {

// QEMU 7.2.0's hw/virtio/virtio-iommu.c, as Debian 12 ships it (7.2+dfsg): every departure below is in
// that file, and tests/integration/system/qemu/qemu_profile_test.cc sees each on the installed QEMU.
constexpr DeviceBehaviour qemu_7_2()
{
    DeviceBehaviour b;
    b.profile = "qemu-7.2";
    b.qemu = QemuRelease{.version = "7.2"};
    b.give_up_without_head_or_tail = true;
    b.unsupp_for_unknown_type = true;
    b.requests_ignore_negotiation = true;
    b.attach_checks_reserved = false;
    b.attach_detaches_first = true;
    b.endpoint_state = EndpointState::kUntilReset;
    b.map_refuses_inverted_range = false;
    b.map_checks_alignment = false;
    b.map_checks_phys_wrap = false;
    b.map_checks_reserved_regions = false;
    b.unmap_checks_split_first = false;
    b.unmap_refuses_inverted_range = false;
    b.short_probe_buffer = ShortProbeBuffer::kGiveUp;
    return b;
}

constexpr DeviceProfile kProfiles[] = {
    {"the virtio spec v1.2 with its SHOULDs, the default", DeviceBehaviour{}},
    {"QEMU 7.2's virtio-iommu as Debian 12 ships it, departures from the spec included", qemu_7_2()},
};

} // namespace

std::span<const DeviceProfile> device_profiles()
{
    return kProfiles;
}

const DeviceProfile* find_device_profile(std::string_view name)
{
    for (const DeviceProfile& p : kProfiles)
        if (p.behaviour.profile == name)
            return &p;
    return nullptr;
}

std::string device_profile_names()
{
    std::string names;
    for (const DeviceProfile& p : kProfiles)
        names += (names.empty() ? "" : ", ") + std::string(p.behaviour.profile);
    return names;
}

} // namespace viommu::hw::virtio_iommu
