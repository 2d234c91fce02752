#include "hw/virtio-iommu/request_types.h"

#include "hw/virtio-iommu/wire.h"

namespace viommu::hw::virtio_iommu {

namespace {

constexpr uint8_t wire_type(const Request& request)
{
    return std::visit(
        [](const auto& r) -> uint8_t {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, AttachRequest>)
                return wire::kTAttach;
            else if constexpr (std::is_same_v<T, DetachRequest>)
                return wire::kTDetach;
            else if constexpr (std::is_same_v<T, MapRequest>)
                return wire::kTMap;
            else if constexpr (std::is_same_v<T, UnmapRequest>)
                return wire::kTUnmap;
            else
                return wire::kTProbe;
        },
        request);
}

Expected<void, Refusal> check(const AttachRequest& r, const RequestFeatures& f)
{
    // §5.13.6.3.2: "If the device does not recognize a flags bit, it MUST reject the request ... INVAL."
    // ATTACH_F_BYPASS exists only with BYPASS_CONFIG (§5.13.6.3).
    if (r.bypass && !f.bypass_config)
        return unexpected(Refusal(Error::kUnknownFlags));
    return {};
}

Expected<void, Refusal> check(const DetachRequest&, const RequestFeatures&)
{
    return {};
}

Expected<void, Refusal> check(const MapRequest& r, const RequestFeatures& f)
{
    // §5.13.6.5.2: unknown flags are INVAL; MAP_F_MMIO is a flag only with VIRTIO_IOMMU_F_MMIO.
    const uint32_t known = wire::kMapFRead | wire::kMapFWrite | (f.mmio ? wire::kMapFMmio : 0);
    if (r.mapping.flags & ~known)
        return unexpected(Refusal(Error::kUnknownFlags));
    // §5.13.6.5.1: "virt_end MUST be strictly greater than virt_start" (a driver rule; the device's
    // answer is not given, INVAL is the status for invalid parameters). A one-byte mapping, legal with a
    // one-byte granule, has virt_end == virt_start and is accepted.
    if (r.mapping.iova.last < r.mapping.iova.first)
        return unexpected(Refusal(Error::kEndBeforeStart));
    return {};
}

Expected<void, Refusal> check(const UnmapRequest& r, const RequestFeatures&)
{
    if (r.range.last < r.range.first)
        return unexpected(Refusal(Error::kEndBeforeStart));
    return {};
}

Expected<void, Refusal> check(const ProbeRequest&, const RequestFeatures&)
{
    return {};
}

} // namespace

RequestFeatures RequestFeatures::negotiated(virtio::FeatureBits driver_features)
{
    const auto has = [&](unsigned bit) { return (driver_features & virtio::feature(bit)) != 0; };
    return {has(wire::kFMapUnmap), has(wire::kFProbe), has(wire::kFBypassConfig), has(wire::kFMmio)};
}

bool type_negotiated(uint8_t type, const RequestFeatures& f)
{
    switch (type) {
    case wire::kTAttach:
    case wire::kTDetach: return true;
    case wire::kTMap:
    case wire::kTUnmap: return f.map_unmap;
    case wire::kTProbe: return f.probe;
    default: return false;
    }
}

Expected<void, Refusal> check_request(const Request& request, const RequestFeatures& features)
{
    if (!type_negotiated(wire_type(request), features))
        return unexpected(Refusal::unwritten());
    return std::visit([&](const auto& r) { return check(r, features); }, request);
}

} // namespace viommu::hw::virtio_iommu
