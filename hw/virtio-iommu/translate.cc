// Endpoint DMA through the IOMMU, and the fault reports it produces, as QEMU's
// virtio_iommu_translate() and virtio_iommu_report_fault() do them (virtio v1.2 §5.13.6, §5.13.6.9).
#include "hw/virtio-iommu/device.h"
#include "hw/virtio-iommu/trace_events.h"
#include "hw/virtio-iommu/wire.h"
#include "virtio/chain_io.h"

namespace viommu::hw::virtio_iommu {

namespace {

// The bytes from iova to the inclusive end of a range, where 0 (the whole 2^64) is told as UINT64_MAX.
uint64_t bytes_to(Iova iova, Iova last)
{
    const uint64_t left = last.value() - iova.value() + 1;
    return left == 0 ? UINT64_MAX : left;
}

Translation identity(Iova iova)
{
    // Identity reaches to the top of the address space.
    return {true, iova.value(), bytes_to(iova, Iova(UINT64_MAX))};
}

} // namespace

const ReservedRegion* VirtioIommu::reserved_region_at(EndpointId endpoint, Iova iova) const
{
    for (const ReservedRegion& r : config_.reserved)
        if (r.applies_to(endpoint) && r.range.contains(iova))
            return &r;
    return nullptr;
}

Translation VirtioIommu::fault(uint8_t reason, uint32_t flags, EndpointId endpoint, Iova iova)
{
    report_fault(reason, flags | wire::kFaultFAddress, endpoint, iova.value());
    return {};
}

Translation VirtioIommu::translate(EndpointId endpoint, Iova iova, Access access)
{
    // QEMU's IOMMUAccessFlags: IOMMU_RO 1, IOMMU_WO 2.
    trace_virtio_iommu_translate(endpoint.value(), static_cast<int32_t>(endpoint.value()), iova.value(),
                                 access == Access::kRead ? 1 : 2);
    const VirtioIommuDomain* domain = domains_.domain_of(endpoint);
    if (!domain) {
        // An endpoint this IOMMU does not manage is not translated here, and has no valid ID to put in
        // a fault report (§5.13.6.9.2: "The device SHOULD write a valid endpoint ID").
        if (!config_.endpoint_exists(endpoint))
            return {};
        if (unattached_bypass())
            return identity(iova);
        // QEMU reports an endpoint it holds no state for as unknown, before it looks at reserved regions
        // (virtio_iommu_translate(): "sid=%d is not known!!").
        if (config_.behaviour.endpoint_state != EndpointState::kNotKept && !domains_.has_state(endpoint))
            return fault(wire::kFaultRUnknown, 0, endpoint, iova);
    } else if (domain->bypass) {
        // An endpoint in a bypass domain reaches everything untranslated, reserved regions included.
        return identity(iova);
    }
    // Reserved regions come before the domain, as in QEMU's translate: an MSI doorbell is reached
    // untranslated (interrupts keep working whatever the domain), a RESERVED region faults.
    const ReservedRegion* reserved = reserved_region_at(endpoint, iova);
    if (reserved && reserved->type == ResvMemSubtype::kMsi)
        return {true, iova.value(), bytes_to(iova, reserved->range.last)};
    // §5.13.6.2: "The device SHOULD NOT let unattached endpoints that are not in bypass mode access the
    // guest-physical address space." Reason DOMAIN: "The endpoint attempted to access address without
    // being attached to a domain" (for an endpoint QEMU holds state for; see above for the others).
    if (!domain)
        return fault(wire::kFaultRDomain, 0, endpoint, iova);
    if (reserved)
        return fault(wire::kFaultRMapping, 0, endpoint, iova);
    const auto m = domain->mappings.find(iova);
    if (!m)
        return fault(wire::kFaultRMapping, 0, endpoint, iova);
    // §5.13.6.5.2: "The device MUST NOT allow writes to a range mapped without VIRTIO_IOMMU_MAP_F_WRITE";
    // reads need READ (write-only mappings exist on the architectures QEMU models).
    if (access == Access::kRead && !(m->flags & wire::kMapFRead))
        return fault(wire::kFaultRMapping, wire::kFaultFRead, endpoint, iova);
    if (access == Access::kWrite && !(m->flags & wire::kMapFWrite))
        return fault(wire::kFaultRMapping, wire::kFaultFWrite, endpoint, iova);
    const uint64_t offset = iova.value() - m->iova.first.value();
    const uint64_t gpa = m->phys_start + offset; // cannot wrap: MAP checked phys_start + size
    trace_virtio_iommu_translate_out(iova.value(), gpa, static_cast<int32_t>(endpoint.value()));
    return {true, gpa, bytes_to(iova, m->iova.last)};
}

void VirtioIommu::report_fault(uint8_t reason, uint32_t flags, EndpointId endpoint, uint64_t address)
{
    last_fault_ = FaultRecord{reason, flags, endpoint, address};
    std::optional<virtio::DescriptorChain> chain;
    if (!pop(wire::kEventQueue, chain)) {
        // §5.13.6.9: "If no buffer is available, the device can either wait for one to be consumed, or
        // drop the event." We drop it, and count it.
        ++stats_.faults_dropped;
        trace_virtio_iommu_fault_dropped(endpoint.value(), address);
        return;
    }
    // §5.13.6.9.2: a buffer too small for the report is not to be split across buffers, and there is no
    // older, smaller format to fall back to; QEMU gives up on the driver ("error buffer of wrong size").
    if (chain->writable_bytes() < sizeof(wire::Fault)) {
        ++stats_.faults_dropped;
        virtio::SplitQueue::detach(std::move(*chain));
        fail("event buffer too small for a fault report");
        return;
    }
    virtio::ChainWriter out(*chain);
    wire::Fault f{};
    f.reason = reason;
    f.flags = flags;
    f.endpoint = endpoint.value();
    f.address = address;
    (void)out.write_obj(f); // room checked above
    ++stats_.faults_reported;
    trace_virtio_iommu_report_fault(reason, static_cast<int32_t>(flags), static_cast<int32_t>(endpoint.value()), address);
    push(wire::kEventQueue, std::move(*chain), static_cast<uint32_t>(out.written()));
    notify_used(wire::kEventQueue);
}

} // namespace viommu::hw::virtio_iommu
