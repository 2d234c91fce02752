#include "hw/virtio-iommu/request_types.h"

#include <optional>

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

std::optional<Error> check(const AttachRequest& r, const RequestFeatures& f, const DeviceBehaviour&)
{
    // §5.13.6.3.2: "If the device does not recognize a flags bit, it MUST reject the request ... INVAL."
    // ATTACH_F_BYPASS exists only with BYPASS_CONFIG (§5.13.6.3).
    if (r.bypass && !f.bypass_config)
        return Error::kUnknownFlags;
    return std::nullopt;
}

std::optional<Error> check(const DetachRequest&, const RequestFeatures&, const DeviceBehaviour&)
{
    return std::nullopt;
}

std::optional<Error> check(const MapRequest& r, const RequestFeatures& f, const DeviceBehaviour& b)
{
    // §5.13.6.5.2: unknown flags are INVAL; MAP_F_MMIO is a flag only with VIRTIO_IOMMU_F_MMIO.
    const uint32_t known = wire::kMapFRead | wire::kMapFWrite | (f.mmio ? wire::kMapFMmio : 0);
    if (r.mapping.flags & ~known)
        return Error::kUnknownFlags;
    // §5.13.6.5.1: "virt_end MUST be strictly greater than virt_start" (a driver rule; the device's
    // answer is not given, INVAL is the status for invalid parameters). A one-byte mapping, legal with a
    // one-byte granule, has virt_end == virt_start and is accepted.
    if (b.map_refuses_inverted_range && r.mapping.iova.last < r.mapping.iova.first)
        return Error::kEndBeforeStart;
    return std::nullopt;
}

std::optional<Error> check(const UnmapRequest& r, const RequestFeatures&, const DeviceBehaviour& b)
{
    if (b.unmap_refuses_inverted_range && r.range.last < r.range.first)
        return Error::kEndBeforeStart;
    return std::nullopt;
}

std::optional<Error> check(const ProbeRequest&, const RequestFeatures&, const DeviceBehaviour&)
{
    return std::nullopt;
}

} // namespace

RequestFeatures RequestFeatures::negotiated(virtio::FeatureBits driver_features)
{
    const auto has = [&](unsigned bit) { return (driver_features & virtio::feature(bit)) != 0; };
    return {has(wire::kFMapUnmap), has(wire::kFProbe), has(wire::kFBypassConfig), has(wire::kFMmio)};
}

RequestFeatures RequestFeatures::in_effect(virtio::FeatureBits driver_features, const DeviceBehaviour& behaviour)
{
    if (behaviour.requests_ignore_negotiation)
        return {true, true, true, true};
    return negotiated(driver_features);
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

Expected<void, Refusal> check_request(const Request& request, const RequestFeatures& features,
                                      const DeviceBehaviour& behaviour)
{
    if (!type_negotiated(wire_type(request), features))
        return unexpected(Refusal::unwritten());
    if (const auto error = std::visit([&](const auto& r) { return check(r, features, behaviour); }, request))
        return unexpected(Refusal(*error));
    return {};
}

} // namespace viommu::hw::virtio_iommu
