#include "hw/virtio-iommu/probe.h"

#include "hw/virtio-iommu/trace_events.h"
#include "hw/virtio-iommu/wire.h"

namespace viommu::hw::virtio_iommu {

uint64_t probe_properties_size(const IommuConfig& config, EndpointId endpoint)
{
    uint64_t bytes = 0;
    for (const ReservedRegion& r : config.reserved)
        if (r.applies_to(endpoint))
            bytes += sizeof(wire::ProbeResvMem);
    if (config.x_noncoherent && config.noncoherent(endpoint))
        bytes += sizeof(wire::ProbeXNoncoherent);
    return bytes;
}

void write_probe_properties(const IommuConfig& config, EndpointId endpoint, bool x_noncoherent_negotiated,
                            virtio::ChainWriter& out)
{
    uint64_t written = 0;
    for (const ReservedRegion& r : config.reserved) {
        if (!r.applies_to(endpoint))
            continue;
        wire::ProbeResvMem prop{};
        prop.head.type = wire::kProbeTResvMem;
        // §5.13.6.7.2: "The device MUST write the size of a property without the struct
        // virtio_iommu_probe_property header, in bytes, into length."
        prop.head.length = static_cast<uint16_t>(sizeof(prop) - sizeof(prop.head));
        prop.subtype = static_cast<uint8_t>(r.type);
        prop.start = r.range.first.value();
        prop.end = r.range.last.value();
        (void)out.write_obj(prop); // room checked by the caller: probe_size bytes, and these fit in it
        trace_virtio_iommu_fill_resv_property(static_cast<int32_t>(endpoint.value()), prop.subtype, prop.start, prop.end);
        written += sizeof(prop);
    }
    // Experimental, not from any published spec (wire.h): only to a driver that negotiated it, which
    // knows the type; any other driver would log it as an unknown property.
    if (x_noncoherent_negotiated && config.noncoherent(endpoint)) {
        wire::ProbeXNoncoherent prop{};
        prop.head.type = wire::kProbeTXNoncoherent;
        prop.head.length = static_cast<uint16_t>(sizeof(prop) - sizeof(prop.head));
        prop.flags = wire::kXNoncoherentFNoSnoop;
        (void)out.write_obj(prop); // counted by probe_properties_size(), which problems() bounds
        written += sizeof(prop);
    }
    // "If the device doesn't fill all probe_size bytes with properties, it SHOULD fill the remaining
    // bytes of properties with zeroes" (a zero type is VIRTIO_IOMMU_PROBE_T_NONE, the end of the list).
    (void)out.fill(0, config.probe_size - written);
}

} // namespace viommu::hw::virtio_iommu
