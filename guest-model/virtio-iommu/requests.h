// The five virtio-iommu requests as a guest driver builds them (virtio v1.2 §5.13.6.3 to §5.13.6.7):
// the device-readable bytes from typed arguments, and the size of the device-writable part that
// follows them. Offsets are those of the kernel's <linux/virtio_iommu.h>; every field is written
// little-endian (§1.4) and every reserved byte zero ("the driver MUST set reserved fields to zero").
//
// A request lives in a fixed array, so building one allocates nothing: the prepared client stages
// requests on its allocation-free path with it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <linux/virtio_iommu.h>

#include "guest-model/virtio-iommu/wire_fields.h"

namespace viommu::guest::virtio_iommu::req {

inline constexpr uint32_t kTailSize = sizeof(virtio_iommu_req_tail);

struct Attach {
    uint32_t domain = 0;
    uint32_t endpoint = 0;
    uint32_t flags = 0; // VIRTIO_IOMMU_ATTACH_F_BYPASS
};
struct Detach {
    uint32_t domain = 0;
    uint32_t endpoint = 0;
};
struct Map {
    uint32_t domain = 0;
    uint64_t virt_start = 0;
    uint64_t virt_end = 0; // inclusive
    uint64_t phys_start = 0;
    uint32_t flags = 0; // VIRTIO_IOMMU_MAP_F_*
};
struct Unmap {
    uint32_t domain = 0;
    uint64_t virt_start = 0;
    uint64_t virt_end = 0; // inclusive
};
struct Probe {
    uint32_t endpoint = 0;
    uint32_t probe_size = 0; // from the configuration: the properties' room in the writable part
};

// One encoded request: `readable()` goes out to the device, then `writable_len` bytes come back.
struct Encoded {
    // PROBE's readable part (head, endpoint, 64 reserved bytes) is the largest.
    static constexpr uint32_t kMaxReadable = sizeof(virtio_iommu_req_probe);

    std::array<uint8_t, kMaxReadable> bytes{};
    uint32_t readable_len = 0;
    uint32_t writable_len = kTailSize;

    std::span<const uint8_t> readable() const { return {bytes.data(), readable_len}; }
    std::vector<uint8_t> readable_vector() const { return {bytes.begin(), bytes.begin() + readable_len}; }
    // Where the tail starts in the writable part: after PROBE's properties, at once for the others.
    uint32_t tail_offset() const { return writable_len - kTailSize; }
};

namespace detail {
// The device-readable part of a request with a fixed layout is its struct without the tail.
template <class Struct>
Encoded start(uint8_t type, uint32_t readable_len = sizeof(Struct) - kTailSize)
{
    Encoded e;
    e.readable_len = readable_len;
    e.bytes[offsetof(virtio_iommu_req_head, type)] = type;
    return e;
}
template <class T>
void put(Encoded& e, std::size_t offset, T value)
{
    wire_fields::store_le<T>(e.bytes.data() + offset, value);
}
} // namespace detail

// §5.13.6.3 ATTACH: 20 readable bytes, then the tail.
inline Encoded encode(const Attach& a)
{
    auto e = detail::start<virtio_iommu_req_attach>(VIRTIO_IOMMU_T_ATTACH);
    detail::put(e, offsetof(virtio_iommu_req_attach, domain), a.domain);
    detail::put(e, offsetof(virtio_iommu_req_attach, endpoint), a.endpoint);
    detail::put(e, offsetof(virtio_iommu_req_attach, flags), a.flags);
    return e;
}

// §5.13.6.4 DETACH: 20 readable bytes, then the tail.
inline Encoded encode(const Detach& d)
{
    auto e = detail::start<virtio_iommu_req_detach>(VIRTIO_IOMMU_T_DETACH);
    detail::put(e, offsetof(virtio_iommu_req_detach, domain), d.domain);
    detail::put(e, offsetof(virtio_iommu_req_detach, endpoint), d.endpoint);
    return e;
}

// §5.13.6.5 MAP: 36 readable bytes, then the tail.
inline Encoded encode(const Map& m)
{
    auto e = detail::start<virtio_iommu_req_map>(VIRTIO_IOMMU_T_MAP);
    detail::put(e, offsetof(virtio_iommu_req_map, domain), m.domain);
    detail::put(e, offsetof(virtio_iommu_req_map, virt_start), m.virt_start);
    detail::put(e, offsetof(virtio_iommu_req_map, virt_end), m.virt_end);
    detail::put(e, offsetof(virtio_iommu_req_map, phys_start), m.phys_start);
    detail::put(e, offsetof(virtio_iommu_req_map, flags), m.flags);
    return e;
}

// §5.13.6.6 UNMAP: 28 readable bytes, then the tail.
inline Encoded encode(const Unmap& u)
{
    auto e = detail::start<virtio_iommu_req_unmap>(VIRTIO_IOMMU_T_UNMAP);
    detail::put(e, offsetof(virtio_iommu_req_unmap, domain), u.domain);
    detail::put(e, offsetof(virtio_iommu_req_unmap, virt_start), u.virt_start);
    detail::put(e, offsetof(virtio_iommu_req_unmap, virt_end), u.virt_end);
    return e;
}

// §5.13.6.7 PROBE: 72 readable bytes (the kernel's struct has no tail member: the properties come
// first in the writable part), then probe_size bytes of properties and the tail.
inline Encoded encode(const Probe& p)
{
    auto e = detail::start<virtio_iommu_req_probe>(VIRTIO_IOMMU_T_PROBE, sizeof(virtio_iommu_req_probe));
    detail::put(e, offsetof(virtio_iommu_req_probe, endpoint), p.endpoint);
    e.writable_len = p.probe_size + kTailSize;
    return e;
}

// The tail's status (§5.13.6.2, struct virtio_iommu_req_tail) at `tail_offset` of the writable part,
// if the device wrote the whole tail: `written` is the writable part as read back and `used_len` the
// length the device reported. Neither is trusted to cover the tail.
inline std::optional<uint8_t> tail_status(std::span<const uint8_t> written, uint32_t used_len, std::size_t tail_offset)
{
    if (used_len < tail_offset + kTailSize || written.size() < tail_offset + kTailSize)
        return std::nullopt;
    return written[tail_offset + offsetof(virtio_iommu_req_tail, status)];
}

// The status of a writable part the driver reads whole: its tail is its last four bytes.
inline std::optional<uint8_t> tail_status(std::span<const uint8_t> writable)
{
    if (writable.size() < kTailSize)
        return std::nullopt;
    return writable[writable.size() - kTailSize + offsetof(virtio_iommu_req_tail, status)];
}

} // namespace viommu::guest::virtio_iommu::req
