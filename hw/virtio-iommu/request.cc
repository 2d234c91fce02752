#include "hw/virtio-iommu/request.h"

#include <algorithm>

#include "hw/virtio-iommu/wire.h"

namespace viommu::iommu {

namespace {

// Reads the rest of a request whose head is already consumed. Extra readable bytes are ignored, as
// QEMU's iov_to_buf() of the request's size does.
template <class Req>
std::optional<Req> read_body(virtio::ChainReader& in)
{
    Req req{};
    constexpr std::size_t kBody = sizeof(Req) - sizeof(wire::ReqHead);
    if (!in.read(std::span(reinterpret_cast<uint8_t*>(&req) + sizeof(wire::ReqHead), kBody)))
        return std::nullopt;
    return req;
}

template <std::size_t N>
bool all_zero(const uint8_t (&bytes)[N])
{
    return std::all_of(bytes, bytes + N, [](uint8_t b) { return b == 0; });
}

Expected<Request, Error> decode_attach(virtio::ChainReader& in, const RequestFeatures& f)
{
    const auto req = read_body<wire::ReqAttach>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.3.2: "If the reserved field of an ATTACH request is not zero, the device MUST reject the
    // request and set status to VIRTIO_IOMMU_S_INVAL."
    if (!all_zero(req->reserved))
        return unexpected(Error::kReservedNotZero);
    // "If the device does not recognize a flags bit, it MUST reject the request ... INVAL." ATTACH_F_BYPASS
    // exists only with BYPASS_CONFIG (§5.13.6.3).
    const uint32_t known = f.bypass_config ? wire::kAttachFBypass : 0;
    if (req->flags.get() & ~known)
        return unexpected(Error::kUnknownFlags);
    return AttachRequest{req->domain.get(), req->endpoint.get(), (req->flags.get() & wire::kAttachFBypass) != 0};
}

Expected<Request, Error> decode_detach(virtio::ChainReader& in)
{
    const auto req = read_body<wire::ReqDetach>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.4.2: "The device MUST ignore reserved."
    return DetachRequest{req->domain.get(), req->endpoint.get()};
}

Expected<Request, Error> decode_map(virtio::ChainReader& in, const RequestFeatures& f)
{
    const auto req = read_body<wire::ReqMap>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.5.2: unknown flags are INVAL; MAP_F_MMIO is a flag only with VIRTIO_IOMMU_F_MMIO.
    const uint32_t known = wire::kMapFRead | wire::kMapFWrite | (f.mmio ? wire::kMapFMmio : 0);
    if (req->flags.get() & ~known)
        return unexpected(Error::kUnknownFlags);
    // §5.13.6.5.1: "virt_end MUST be strictly greater than virt_start" (a driver rule; the device's
    // answer is not given, INVAL is the status for invalid parameters). A one-byte mapping, legal with a
    // one-byte granule, has virt_end == virt_start and is accepted.
    if (req->virt_end.get() < req->virt_start.get())
        return unexpected(Error::kEndBeforeStart);
    return MapRequest{req->domain.get(),
                      Mapping{req->virt_start.get(), req->virt_end.get(), req->phys_start.get(), req->flags.get()}};
}

Expected<Request, Error> decode_unmap(virtio::ChainReader& in)
{
    const auto req = read_body<wire::ReqUnmap>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.6.2 lets the device either ignore a non-zero reserved field or answer INVAL; QEMU ignores
    // it, and so do we.
    if (req->virt_end.get() < req->virt_start.get())
        return unexpected(Error::kEndBeforeStart);
    return UnmapRequest{req->domain.get(), req->virt_start.get(), req->virt_end.get()};
}

Expected<Request, Error> decode_probe(virtio::ChainReader& in)
{
    const auto req = read_body<wire::ReqProbe>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.7.2: "The device MUST ignore field reserved of a PROBE request."
    return ProbeRequest{req->endpoint.get()};
}

} // namespace

std::optional<Expected<Request, Error>> decode(uint8_t type, virtio::ChainReader& in, const RequestFeatures& f)
{
    switch (type) {
    case wire::kTAttach: return decode_attach(in, f);
    case wire::kTDetach: return decode_detach(in);
    // §5.13.6.5/6: "only available when VIRTIO_IOMMU_F_MAP_UNMAP has been negotiated".
    case wire::kTMap: return f.map_unmap ? std::optional(decode_map(in, f)) : std::nullopt;
    case wire::kTUnmap: return f.map_unmap ? std::optional(decode_unmap(in)) : std::nullopt;
    // §5.13.6.7.2: without PROBE the device "SHOULD NOT write the buffer and SHOULD set the used length
    // to zero" (the spec says "offer"; a request for a feature the driver declined is treated alike).
    case wire::kTProbe: return f.probe ? std::optional(decode_probe(in)) : std::nullopt;
    default:
        // §5.13.6.2: "If a request type is not recognized, the device SHOULD NOT write the buffer and
        // SHOULD set the used length to zero." (QEMU writes UNSUPP.)
        return std::nullopt;
    }
}

} // namespace viommu::iommu
