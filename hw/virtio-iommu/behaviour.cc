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
    b.frozen_granule_check = FrozenGranuleCheck::kSameGranule;
    b.takes_host_iova_ranges = false;
    return b;
}

// QEMU 9.1.0, from QEMU's history since 7.2 (not run here: no QEMU 9.1 is installed). What changed in
// the answers: DETACH frees the endpoint's state (4dc8ff564fbe), so a detached endpoint answers DETACH
// with NOENT and faults UNKNOWN; a short PROBE buffer is DEVERR instead of an abort (704391f94a54); and
// 9.0 added the granule and aw-bits properties (their x86 defaults, 4 KiB and 64, are ours; q35
// machines set aw-bits 39); 9.0 and 9.1 take an assigned device's host reserved regions, and 9.1 checks
// a hot-plugged device's page sizes against the frozen granule alone.
constexpr DeviceBehaviour qemu_9_1()
{
    DeviceBehaviour b = qemu_7_2();
    b.profile = "qemu-9.1";
    b.qemu = QemuRelease{.version = "9.1", .granule_property = true, .aw_bits_property = true};
    b.endpoint_state = EndpointState::kUntilDetach;
    b.short_probe_buffer = ShortProbeBuffer::kDevErr;
    // The host's page sizes and usable IOVA ranges through HostIOMMUDevice (9.1), checked against the
    // granule frozen at machine-init-done (94df5b2180, 8.1).
    b.frozen_granule_check = FrozenGranuleCheck::kGranuleSupported;
    b.takes_host_iova_ranges = true;
    return b;
}

constexpr DeviceProfile kProfiles[] = {
    {"the virtio spec v1.2 with its SHOULDs, the default", DeviceBehaviour{}},
    {"QEMU 7.2's virtio-iommu as Debian 12 ships it, departures from the spec included", qemu_7_2()},
    {"QEMU 9.1's virtio-iommu, from QEMU's history: 7.2's, with DETACH freeing the endpoint and DEVERR for "
     "a short PROBE buffer",
     qemu_9_1()},
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
