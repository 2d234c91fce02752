// Endpoint DMA through the IOMMU, and the fault reports it produces, as QEMU's
// virtio_iommu_translate() and virtio_iommu_report_fault() do them (virtio v1.2 §5.13.6, §5.13.6.9).
#include "hw/virtio-iommu/device.h"
#include "hw/virtio-iommu/trace_events.h"
#include "hw/virtio-iommu/wire.h"
#include "virtio/chain_io.h"

namespace viommu::iommu {

namespace {

constexpr char access_char(Access a) { return a == Access::kRead ? 'r' : 'w'; }

Translation identity(uint64_t iova)
{
    // Identity reaches to the top of the address space; 0 stands for 2^64 bytes only at iova 0.
    return {true, iova, iova == 0 ? UINT64_MAX : 0 - iova};
}

} // namespace

Translation VirtioIommu::fault(uint8_t reason, uint32_t flags, uint32_t endpoint, uint64_t iova)
{
    report_fault(reason, flags | wire::kFaultFAddress, endpoint, iova);
    return {};
}

Translation VirtioIommu::translate(uint32_t endpoint, uint64_t iova, Access access)
{
    trace_virtio_iommu_translate(endpoint, iova, access_char(access));
    const Domain* domain = domains_.domain_of(endpoint);
    if (!domain) {
        // An endpoint this IOMMU does not manage is not translated here, and has no valid ID to put in
        // a fault report (§5.13.6.9.2: "The device SHOULD write a valid endpoint ID").
        if (!config_.endpoint_exists(endpoint))
            return {};
        if (unattached_bypass())
            return identity(iova);
        // §5.13.6.2: "The device SHOULD NOT let unattached endpoints that are not in bypass mode access the
        // guest-physical address space." Reason DOMAIN: "The endpoint attempted to access address without
        // being attached to a domain." (QEMU reports the same, with the address.)
        return fault(wire::kFaultRDomain, 0, endpoint, iova);
    }
    // An endpoint in a bypass domain reaches everything untranslated, reserved regions included.
    if (domain->bypass)
        return identity(iova);
    for (const ReservedRegion& r : config_.reserved) {
        if (!r.applies_to(endpoint) || iova < r.start || iova > r.end)
            continue;
        // An MSI doorbell is reached untranslated by an attached endpoint; a RESERVED region faults
        // (QEMU: VIRTIO_IOMMU_RESV_MEM_T_MSI -> identity, _RESERVED -> MAPPING fault).
        if (r.type == ResvType::kMsi)
            return {true, iova, r.end - iova + 1 == 0 ? UINT64_MAX : r.end - iova + 1};
        return fault(wire::kFaultRMapping, 0, endpoint, iova);
    }
    const auto m = domain->mappings.find(iova);
    if (!m)
        return fault(wire::kFaultRMapping, 0, endpoint, iova);
    // §5.13.6.5.2: "The device MUST NOT allow writes to a range mapped without VIRTIO_IOMMU_MAP_F_WRITE";
    // reads need READ (write-only mappings exist on the architectures QEMU models).
    if (access == Access::kRead && !(m->flags & wire::kMapFRead))
        return fault(wire::kFaultRMapping, wire::kFaultFRead, endpoint, iova);
    if (access == Access::kWrite && !(m->flags & wire::kMapFWrite))
        return fault(wire::kFaultRMapping, wire::kFaultFWrite, endpoint, iova);
    const uint64_t offset = iova - m->virt_start;
    const uint64_t gpa = m->phys_start + offset; // cannot wrap: MAP checked phys_start + size
    trace_virtio_iommu_translate_out(endpoint, iova, gpa);
    const uint64_t left = m->virt_end - iova + 1;
    return {true, gpa, left == 0 ? UINT64_MAX : left};
}

void VirtioIommu::report_fault(uint8_t reason, uint32_t flags, uint32_t endpoint, uint64_t address)
{
    std::optional<virtio::DescriptorChain> chain;
    if (!pop(wire::kEventQueue, chain)) {
        // §5.13.6.9: "If no buffer is available, the device can either wait for one to be consumed, or
        // drop the event." We drop it, and count it.
        ++stats_.faults_dropped;
        trace_virtio_iommu_fault_dropped(endpoint, address);
        return;
    }
    virtio::ChainWriter out(*chain);
    wire::Fault f{};
    f.reason = reason;
    f.flags = flags;
    f.endpoint = endpoint;
    f.address = address;
    // "If a buffer is too small to contain the fault report, the device SHOULD NOT use multiple
    // buffers to describe it": a buffer too small is returned empty and the report counts as dropped.
    if (out.write_obj(f)) {
        ++stats_.faults_reported;
        trace_virtio_iommu_report_fault(reason, flags, endpoint, address);
    } else {
        ++stats_.faults_dropped;
        trace_virtio_iommu_fault_dropped(endpoint, address);
    }
    push(wire::kEventQueue, std::move(*chain), static_cast<uint32_t>(out.written()));
    notify_used(wire::kEventQueue);
}

} // namespace viommu::iommu
