#include "guest-model/virtio-iommu/probe_properties.h"

#include <algorithm>
#include <array>

#include "guest-model/virtio-iommu/wire_fields.h"

namespace viommu::guest::virtio_iommu::probe {

std::optional<RawProperty> Walker::next()
{
    if (reached_none_ || list_.size() - at_ < kHeaderSize)
        return std::nullopt;
    const uint8_t* head = list_.data() + at_;
    RawProperty p;
    p.type = wire_fields::load_le<uint16_t>(head + offsetof(virtio_iommu_probe_property, type)) &
             VIRTIO_IOMMU_PROBE_T_MASK;
    if (p.type == VIRTIO_IOMMU_PROBE_T_NONE) {
        reached_none_ = true;
        return std::nullopt;
    }
    p.length = wire_fields::load_le<uint16_t>(head + offsetof(virtio_iommu_probe_property, length));
    const std::size_t value_at = at_ + kHeaderSize;
    const std::size_t inside = std::min<std::size_t>(p.length, list_.size() - value_at);
    p.value = list_.subspan(value_at, inside);
    at_ = value_at + inside; // an overrunning property ends the walk: nothing of the list is left
    return p;
}

ResvMem read_resv_mem(std::span<const uint8_t> value)
{
    std::array<uint8_t, kResvMemValueSize> v{};
    std::copy_n(value.begin(), std::min(value.size(), v.size()), v.begin());
    // Offsets in the value: the struct's offsets less its header.
    constexpr auto at = [](std::size_t struct_offset) { return struct_offset - kHeaderSize; };
    ResvMem r;
    r.subtype = v[at(offsetof(virtio_iommu_probe_resv_mem, subtype))];
    r.start = wire_fields::load_le<uint64_t>(v.data() + at(offsetof(virtio_iommu_probe_resv_mem, start)));
    r.end = wire_fields::load_le<uint64_t>(v.data() + at(offsetof(virtio_iommu_probe_resv_mem, end)));
    return r;
}

Properties parse(std::span<const uint8_t> properties)
{
    Properties out;
    Walker walker(properties);
    while (auto p = walker.next()) {
        if (p->overruns()) {
            out.end = ListEnd::kOverlong;
            return out;
        }
        if (p->type == VIRTIO_IOMMU_PROBE_T_RESV_MEM && resv_mem_length_ok(p->length))
            out.list.emplace_back(read_resv_mem(p->value));
        else
            out.list.emplace_back(Unparsed{p->type, p->length});
    }
    out.end = walker.reached_none() ? ListEnd::kNone : ListEnd::kBufferEnd;
    return out;
}

} // namespace viommu::guest::virtio_iommu::probe
