// Where the device departs from virtio v1.2 §5.13 to answer as a given QEMU release does, one named
// member per departure, and the named profiles that set them (`--device-profile`).
//
// The default, `spec`, is the spec with its SHOULDs (docs/conformance.md). A QEMU profile reproduces the
// answers of QEMU's hw/virtio/virtio-iommu.c of that release, including where it departs from the spec,
// so that a script or a guest can be run "as on QEMU 7.2". Each member says which QEMU code it follows;
// tests/integration/system/qemu/qemu_profile_test.cc checks QEMU 7.2's request answers on the installed
// QEMU, one by one and over a random request sequence.
//
// Profiles are resolved by name once, when the configuration is built: the device reads these plain
// members on its request and translation paths.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace viommu::hw::virtio_iommu {

// Which endpoints QEMU holds state for (its VirtIOIOMMUEndpoint, made by virtio_iommu_get_endpoint() on
// ATTACH). An endpoint without state answers DETACH with NOENT and, when it is not in bypass, faults with
// reason UNKNOWN before any reserved region is looked at (virtio_iommu_translate()).
enum class EndpointState : uint8_t {
    kNotKept,    // the spec: every endpoint that exists is alike, attached or not
    kUntilReset, // QEMU 7.2: from the first ATTACH that gets past its flag check until device reset
    kUntilDetach, // QEMU 9.1 (4dc8ff564fbe, "virtio-iommu: Remove the end point on detach"): as 7.2, and a
                  // DETACH frees it too
};

// What a PROBE whose device-writable part cannot hold probe_size bytes and the tail gets.
enum class ShortProbeBuffer : uint8_t {
    kInval,  // §5.13.6.7.2: "the device SHOULD NOT write any property ... set status to VIRTIO_IOMMU_S_INVAL"
    kGiveUp, // QEMU 7.2 asserts `sz == output_size` in virtio_iommu_handle_command() and aborts, whatever
             // the request's status: the driver gets nothing back; the device gives up on it instead
    kDevErr, // QEMU 9.1 (704391f94a54, "virtio-iommu: add error check before assert"): the tail at offset 0
             // says DEVERR, used length 4, whatever the request's status
};

// Which host page-size masks a device plugged once the granule is frozen may bring (a hot-plugged VFIO
// device, whose host IOMMU's page sizes VFIO hands the vIOMMU). Before that, any mask that shares a bit
// with the current one narrows it; a mask that shares none is refused in every release.
enum class FrozenGranuleCheck : uint8_t {
    // QEMU 7.2's virtio_iommu_set_page_size_mask(): once phase_check(PHASE_MACHINE_READY), the new mask's
    // lowest bit must be the current one's ("virtio-iommu page mask 0x%lx is incompatible with mask
    // 0x%lx"); a mask with the same granule but other bits is accepted with a warning.
    kSameGranule,
    // QEMU 9.1's check_page_size_mask() (from "virtio-iommu : Retrieve page size mask on
    // virtio_iommu_set_iommu_device()", after 94df5b2180 froze the granule at machine-init-done): the
    // new mask must contain the frozen granule ("virtio-iommu does not support frozen granule 0x%llx").
    kGranuleSupported,
};

// What the QEMU release of a profile can be told on its command line: every other device option must
// keep QEMU's value (IommuConfig::problems()).
struct QemuRelease {
    std::string_view version; // "7.2"
    bool granule_property = false; // `granule`: 4k, 8k, 16k, 64k or the host's (QEMU 9.0)
    bool aw_bits_property = false; // `aw-bits`, input_range [0, 2^aw-bits - 1], 32 to 64 (QEMU 9.0)

    bool operator==(const QemuRelease&) const = default;
};

struct DeviceBehaviour {
    std::string_view profile = "spec"; // the name it was chosen by, for reports
    std::optional<QemuRelease> qemu;   // nullopt: not a QEMU release, any configuration goes

    // §5.13.6: a request without a head or room for the tail is returned unwritten, used length 0.
    // true: the device gives up on the driver (NEEDS_RESET, the buffer never used), as QEMU's
    // virtio_iommu_handle_command() does: virtio_error("virtio-iommu bad head/tail size").
    bool give_up_without_head_or_tail = false;
    // §5.13.6.2: an unknown request type SHOULD NOT be written, used length 0. true: the tail says
    // UNSUPP, QEMU's `default:` case of virtio_iommu_handle_command().
    bool unsupp_for_unknown_type = false;
    // §5.13.6.3/5/6/7: MAP, UNMAP and PROBE exist only once their feature is negotiated, ATTACH_F_BYPASS only
    // with BYPASS_CONFIG, MAP_F_MMIO only with MMIO. true: QEMU looks at no negotiated feature in a request
    // (its MAP flag mask, VIRTIO_IOMMU_MAP_F_MASK, holds MMIO).
    bool requests_ignore_negotiation = false;

    // §5.13.6.3.2: ATTACH's reserved field MUST be zero (INVAL). QEMU's virtio_iommu_attach() never reads it.
    bool attach_checks_reserved = true;
    // A rejected ATTACH changes nothing; an ATTACH to the endpoint's own domain changes nothing. true:
    // QEMU's virtio_iommu_attach() detaches the endpoint, and drops its old domain if that is left empty,
    // before it looks the new domain up: a rejected ATTACH has already detached, and an ATTACH to the
    // domain an endpoint is alone in destroys it with its mappings and creates it anew.
    bool attach_detaches_first = false;
    // DETACH (§5.13.6.4.2 lets a missing domain or an endpoint not attached to it be INVAL) and faults
    // (§5.13.6.9) of endpoints QEMU holds no state for.
    EndpointState endpoint_state = EndpointState::kNotKept;

    // §5.13.6.5: MAP with virt_end < virt_start is INVAL. false: QEMU's virtio_iommu_map() puts the
    // inverted interval in its tree (OK unless it finds a mapping holding both ends).
    bool map_refuses_inverted_range = true;
    // §5.13.6.5.2: MAP not aligned to the granule SHOULD be RANGE. QEMU's virtio_iommu_map() does not check.
    bool map_checks_alignment = true;
    // A MAP whose physical end would wrap past 2^64 is RANGE. QEMU's virtio_iommu_map() does not check.
    bool map_checks_phys_wrap = true;
    // §5.13.6.8.1.2: MAP over a RESV_MEM region SHOULD be refused (INVAL). QEMU's virtio_iommu_map() does
    // not look at reserved regions.
    bool map_checks_reserved_regions = true;
    // §5.13.6.6.2: an UNMAP that would split a mapping SHOULD be RANGE and SHOULD NOT remove anything.
    // false: QEMU's virtio_iommu_unmap() removes the whole mappings it meets until it meets the one it
    // would split.
    bool unmap_checks_split_first = true;
    // UNMAP with virt_end < virt_start (the spec gives no rule) is INVAL. false: QEMU's virtio_iommu_unmap()
    // looks the inverted interval up: RANGE if a mapping holds both ends, else OK with nothing removed.
    bool unmap_refuses_inverted_range = true;

    ShortProbeBuffer short_probe_buffer = ShortProbeBuffer::kInval;

    // Host IOMMU constraints of an assigned device (host_constraints.h). The spec says nothing of the
    // host; the default follows the newest QEMU modelled.
    FrozenGranuleCheck frozen_granule_check = FrozenGranuleCheck::kGranuleSupported;
    // The host's usable IOVA ranges reach the device, whose complement becomes RESV_MEM (RESERVED) of
    // that endpoint: QEMU 9.0's iommu_set_iova_ranges, then 9.1's HostIOMMUDevice ("virtio-iommu: Compute
    // host reserved regions"). false: QEMU 7.2, which learns only the page-size mask from VFIO.
    bool takes_host_iova_ranges = true;

    bool operator==(const DeviceBehaviour&) const = default;
};

struct DeviceProfile {
    std::string_view summary; // one line for --help
    DeviceBehaviour behaviour;
};

// Every profile, `spec` first.
std::span<const DeviceProfile> device_profiles();
// The profile of that name, or nullptr.
const DeviceProfile* find_device_profile(std::string_view name);
// "spec, qemu-7.2": for help texts and error messages.
std::string device_profile_names();

} // namespace viommu::hw::virtio_iommu
