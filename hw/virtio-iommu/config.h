// The device's properties: what QEMU's `-device virtio-iommu` properties set, plus the limits that bound
// what a guest can make the device allocate. Built by tools from command-line options, then fixed for
// the life of the device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "hw/virtio-iommu/behaviour.h"
#include "hw/virtio-iommu/ids.h"
#include "virtio/feature_bits.h"

namespace viommu::hw::virtio_iommu {


// The subtype of a virtio_iommu_probe_resv_mem property (§5.13.6.8.1): VIRTIO_IOMMU_RESV_MEM_T_*.
enum class ResvMemSubtype : uint8_t { kReserved = 0, kMsi = 1 };

// Whether every ID of r is in the set (which may list overlapping or unsorted ranges).
bool covers(const std::vector<EndpointRange>& set, EndpointRange r);

struct ReservedRegion {
    std::vector<EndpointRange> endpoints; // empty: every endpoint (QEMU's reserved-regions are global)
    IovaRange range;
    ResvMemSubtype type = ResvMemSubtype::kReserved;
    // Learnt from the host IOMMU of a device plugged behind the endpoint (host_constraints.h): it goes
    // when the device is unplugged.
    bool from_host = false;
    bool applies_to(EndpointId endpoint) const;
    // Whether some endpoint would see both regions.
    bool shares_endpoint_with(const ReservedRegion& other) const;
};

// The first pair of regions (i < j) that overlap with different types where one endpoint sees both: a
// driver cannot tell what such an address is (Linux's iommu_insert_resv_region() keeps both, and the
// IOVA allocator and the MSI code then disagree on it).
std::optional<std::pair<std::size_t, std::size_t>> conflicting_reserved_regions(const std::vector<ReservedRegion>& regions);

struct IommuLimits {
    // A guest must not grow the device without bound (cloud-hypervisor's MAX_DOMAINS and
    // MAX_MAPPINGS_PER_DOMAIN make the same point). Reaching a limit answers NOMEM.
    uint32_t max_domains = 1u << 16;             // live domains
    uint32_t max_mappings_per_domain = 1u << 20; // ~45 MiB of mapping store at ~45 bytes a mapping
    uint32_t max_attached_endpoints = 1u << 16;  // endpoints attached at once
    // Mappings of all domains together: without it, 2^16 domains of 2^20 mappings each would let a guest
    // ask for ~3 TB. 2^22 mappings is ~190 MiB of mapping store, four times what a guest with every
    // domain full of 4 KiB pages of a 4 GiB machine would hold.
    uint32_t max_total_mappings = 1u << 22;

    // QEMU's virtio-iommu has none of these limits: a domain or mapping more is as many bytes more of
    // host memory (its GTrees), until the host has none.
    static constexpr IommuLimits unbounded() { return {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX}; }
};

struct IommuConfig {
    // Endpoint IDs that exist: PCI requester IDs (bus << 8 | devfn) as QEMU's virtio-iommu uses them.
    std::vector<EndpointRange> endpoints{{EndpointId(0), EndpointId(0xffff)}};
    // QEMU 7.2 on x86: the host page size, 4 KiB ("granule" property in newer QEMU).
    uint64_t page_size_mask = ~uint64_t{0xfff};
    // aw-bits: 64 (QEMU 7.2's input range is the whole 64-bit space).
    uint64_t input_start = 0;
    uint64_t input_end = UINT64_MAX;
    uint32_t domain_start = 0;
    uint32_t domain_end = UINT32_MAX;
    uint32_t probe_size = 512; // QEMU's VIOMMU_PROBE_SIZE
    bool boot_bypass = true;   // QEMU's default
    // Offer the legacy VIRTIO_IOMMU_F_BYPASS instead of BYPASS_CONFIG (§5.13.3: a device should not
    // offer both), for drivers that predate BYPASS_CONFIG.
    bool legacy_bypass = false;
    // QEMU's `packed` property, common to its virtio devices and off by default (DEFINE_VIRTIO_COMMON_FEATURES
    // in include/hw/virtio/virtio.h, from "virtio: add property to enable packed virtqueue", QEMU 4.2):
    // offer VIRTIO_F_RING_PACKED, so that a driver that knows it may use packed rings (virtio v1.2 §2.8).
    bool packed = false;
    // Features that would be offered but are held back (QEMU's per-device feature switches).
    virtio::FeatureBits withheld = 0;
    std::vector<ReservedRegion> reserved;
    // viommu's experimental non-coherent DMA extension (NOT FROM ANY PUBLISHED SPEC, wire.h
    // kFXNoncoherent; docs/noncoherent-extension.md): offered only when on, off by default.
    bool x_noncoherent = false;
    // Endpoints whose DMA does not snoop the CPU caches (their host said so): PROBE marks them when the
    // driver negotiated the extension.
    std::vector<EndpointId> noncoherent_endpoints;
    IommuLimits limits;
    // Where the device departs from the spec, and which QEMU release's answers it gives (behaviour.h).
    DeviceBehaviour behaviour;

    // Takes a profile's behaviour and, for a QEMU release, QEMU's defaults where ours differ: its limits
    // (none). Everything else QEMU fixes is already our default; problems() refuses other values.
    void use_profile(const DeviceBehaviour& b)
    {
        behaviour = b;
        if (b.qemu)
            limits = IommuLimits::unbounded();
    }

    bool endpoint_exists(EndpointId id) const;
    bool noncoherent(EndpointId id) const;
    uint64_t granule() const { return page_size_mask & (~page_size_mask + 1); } // lowest set bit

    // Everything inconsistent, in one message per problem (empty when valid); under a QEMU profile, also
    // every value that release could not be given.
    std::vector<std::string> problems() const;
    // The most bytes of PROBE properties any endpoint has (what probe_size must hold).
    uint64_t largest_probe_properties() const;
};

// What a QEMU release could not be given of c, one message per problem ("QEMU 7.2 cannot be given ...");
// problems() includes these under a QEMU profile.
[[nodiscard]] std::vector<std::string> qemu_release_problems(const IommuConfig& c, const QemuRelease& qemu);

// "input-range", "domain-range", "map-unmap", "probe", "mmio", "bypass-config", "bypass" (the legacy
// one), "indirect-desc", "event-idx", "ring-reset": the bit a feature name stands for.
[[nodiscard]] Expected<unsigned, std::string> feature_by_name(std::string_view name);

// Command-line forms, shared by every tool:
//   endpoint set  "0x8,0x10-0x18"
//   reserved      "[ENDPOINTS:]START-END:reserved|msi", e.g. "0x8:0xfee00000-0xfeefffff:msi"
//   id range      "0-1023"
//   aw-bits       12..64 -> input range [0, 2^bits - 1]
[[nodiscard]] Expected<std::vector<EndpointRange>, std::string> parse_endpoint_set(std::string_view text, uint32_t max);
[[nodiscard]] Expected<IdRange<uint32_t>, std::string> parse_id_range(std::string_view text, uint32_t max);
[[nodiscard]] Expected<ReservedRegion, std::string> parse_reserved_region(std::string_view text);

} // namespace viommu::hw::virtio_iommu
