#include "hw/virtio-iommu/request.h"

#include <algorithm>

#include "hw/virtio-iommu/wire.h"

namespace viommu::hw::virtio_iommu {

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

constexpr bool is_known_type(uint8_t type)
{
    return type >= wire::kTAttach && type <= wire::kTProbe;
}

template <std::size_t N>
bool all_zero(const uint8_t (&bytes)[N])
{
    return std::all_of(bytes, bytes + N, [](uint8_t b) { return b == 0; });
}

Expected<Request, Refusal> decode_attach(virtio::ChainReader& in, const DeviceBehaviour& b)
{
    const auto req = read_body<wire::ReqAttach>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.3.2: "If the reserved field of an ATTACH request is not zero, the device MUST reject the
    // request and set status to VIRTIO_IOMMU_S_INVAL."
    if (b.attach_checks_reserved && !all_zero(req->reserved))
        return unexpected(Error::kReservedNotZero);
    // "If the device does not recognize a flags bit, it MUST reject the request ... INVAL." Whether
    // ATTACH_F_BYPASS is one is check_request()'s to say.
    if (req->flags.get() & ~wire::kAttachFBypass)
        return unexpected(Error::kUnknownFlags);
    return AttachRequest{DomainId(req->domain.get()), EndpointId(req->endpoint.get()), (req->flags.get() & wire::kAttachFBypass) != 0};
}

Expected<Request, Refusal> decode_detach(virtio::ChainReader& in)
{
    const auto req = read_body<wire::ReqDetach>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.4.2: "The device MUST ignore reserved."
    return DetachRequest{DomainId(req->domain.get()), EndpointId(req->endpoint.get())};
}

Expected<Request, Refusal> decode_map(virtio::ChainReader& in)
{
    const auto req = read_body<wire::ReqMap>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    return MapRequest{DomainId(req->domain.get()),
                      Mapping{IovaRange{Iova(req->virt_start.get()), Iova(req->virt_end.get())}, req->phys_start.get(),
                              req->flags.get()}};
}

Expected<Request, Refusal> decode_unmap(virtio::ChainReader& in)
{
    const auto req = read_body<wire::ReqUnmap>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.6.2 lets the device either ignore a non-zero reserved field or answer INVAL; QEMU ignores
    // it, and so do we.
    return UnmapRequest{DomainId(req->domain.get()), IovaRange{Iova(req->virt_start.get()), Iova(req->virt_end.get())}};
}

Expected<Request, Refusal> decode_probe(virtio::ChainReader& in)
{
    const auto req = read_body<wire::ReqProbe>(in);
    if (!req)
        return unexpected(Error::kTooShort);
    // §5.13.6.7.2: "The device MUST ignore field reserved of a PROBE request."
    return ProbeRequest{EndpointId(req->endpoint.get())};
}

Expected<Request, Refusal> decode_body(uint8_t type, virtio::ChainReader& in, const DeviceBehaviour& b)
{
    switch (type) {
    case wire::kTAttach: return decode_attach(in, b);
    case wire::kTDetach: return decode_detach(in);
    case wire::kTMap: return decode_map(in);
    case wire::kTUnmap: return decode_unmap(in);
    case wire::kTProbe: return decode_probe(in);
    default: return unexpected(Refusal::unwritten()); // decode() answers unknown types first
    }
}

} // namespace

Expected<Request, Refusal> decode(uint8_t type, virtio::ChainReader& in, const RequestFeatures& f,
                                  const DeviceBehaviour& b)
{
    // §5.13.6.2: "If a request type is not recognized, the device SHOULD NOT write the buffer and SHOULD
    // set the used length to zero." (QEMU writes UNSUPP.) A type whose feature was not negotiated is
    // refused alike, before its body is read: even when too short for its type.
    if (!type_negotiated(type, f))
        return unexpected(b.unsupp_for_unknown_type && !is_known_type(type) ? Refusal(Error::kUnknownType)
                                                                            : Refusal::unwritten());
    auto request = decode_body(type, in, b);
    if (!request)
        return request;
    if (auto ok = check_request(*request, f, b); !ok)
        return unexpected(ok.error());
    return request;
}

} // namespace viommu::hw::virtio_iommu
