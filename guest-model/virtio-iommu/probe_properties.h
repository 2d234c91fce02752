// A PROBE reply's property list (virtio v1.2 §5.13.6.7, §5.13.6.8), read by the driver. The device is
// not trusted: every property is bounded by the probe_size bytes the driver offered, its length is
// checked against the layout of its type, and an unknown type is skipped by its length.
//
// The list is a run of properties, each a struct virtio_iommu_probe_property header (type, then
// length: the size of the value that follows, without the header, §5.13.6.7.2) and its value. It ends
// at a NONE type (0): "if the device doesn't fill all probe_size bytes with properties, it SHOULD
// fill the remaining bytes of properties with zeroes", so the zero padding after the last property
// reads as NONE.
//
// A new property type gets its value's struct here, an alternative in Property, a case in parse()
// and a TEST_CASE per rule in tests/unit/guest-model/virtio-iommu/probe_properties_test.cc; the driver
// (driver.cc, probe_endpoint()) decides what it means to Linux, and the replay runner will not
// compile until it prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include <linux/virtio_iommu.h>

namespace viommu::guest::virtio_iommu::probe {

inline constexpr std::size_t kHeaderSize = sizeof(virtio_iommu_probe_property);
// RESV_MEM's value: subtype, three reserved bytes, start and end (§5.13.6.8.1).
inline constexpr std::size_t kResvMemValueSize = sizeof(virtio_iommu_probe_resv_mem) - kHeaderSize;

// One property as the list holds it.
struct RawProperty {
    // Bits 0-11 of the header's type: the reserved bits 12-15 are masked, not checked, as Linux does
    // with VIRTIO_IOMMU_PROBE_T_MASK.
    uint16_t type = 0;
    uint16_t length = 0;            // the value's length as the device wrote it
    std::span<const uint8_t> value; // the value's bytes that lie inside the list (fewer if it overruns)
    bool overruns() const { return value.size() < length; }
};

// Walks the list one property at a time; each property starts right after the previous one's value.
class Walker {
public:
    explicit Walker(std::span<const uint8_t> properties) : list_(properties) {}
    // The next property, or nullopt at a NONE type or when no whole header is left.
    std::optional<RawProperty> next();
    bool reached_none() const { return reached_none_; }

private:
    std::span<const uint8_t> list_;
    std::size_t at_ = 0;
    bool reached_none_ = false;
};

enum class ResvMemSubtype : uint8_t {
    kReserved = VIRTIO_IOMMU_RESV_MEM_T_RESERVED, // accesses fault
    kMsi = VIRTIO_IOMMU_RESV_MEM_T_MSI,           // bypasses translation (an MSI doorbell)
};

// §5.13.6.8.1 RESV_MEM: a reserved range [start, end] of the endpoint's IOVA space.
struct ResvMem {
    uint8_t subtype = 0; // a ResvMemSubtype, or a value this driver does not know
    uint64_t start = 0;
    uint64_t end = 0;
    bool operator==(const ResvMem&) const = default;
};

// RESV_MEM's fields from a value, zero where the value is shorter than the layout: Linux's
// viommu_add_resv_mem() reads start and end before it checks the length.
ResvMem read_resv_mem(std::span<const uint8_t> value);
// Whether a RESV_MEM property's length covers its layout (viommu_add_resv_mem(): -EINVAL if not).
inline bool resv_mem_length_ok(uint16_t length)
{
    return length >= kResvMemValueSize;
}

// A property kept as it came: an unknown type, or a known one too short for its layout.
struct Unparsed {
    uint16_t type = 0;
    uint16_t length = 0;
    bool operator==(const Unparsed&) const = default;
};

using Property = std::variant<ResvMem, Unparsed>;

enum class ListEnd {
    kNone,      // a NONE type (the zero padding, or an explicit terminator)
    kBufferEnd, // probe_size bytes read with no room left for a header
    kOverlong,  // a property whose length runs past probe_size: it and anything after it are dropped
};

struct Properties {
    std::vector<Property> list;
    ListEnd end = ListEnd::kNone;
};

// The whole list, typed: what every property the device wrote inside probe_size means.
Properties parse(std::span<const uint8_t> properties);

} // namespace viommu::guest::virtio_iommu::probe
