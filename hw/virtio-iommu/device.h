// The virtio-iommu device (virtio v1.2 §5.13): requests from the request queue, endpoint DMA translated
// through domains and mappings, faults reported on the event queue.
//
// device.cc only wires the parts together: request.cc decodes, request_types.cc holds the rules of a
// request itself, domains.cc keeps the state and its rules, probe.cc writes PROBE's properties, translate.cc translates and reports faults, errors.h maps every refusal
// to its status.
#pragma once

#include <cstdint>
#include <optional>

#include "hw/virtio-iommu/config.h"
#include "hw/virtio-iommu/domains.h"
#include "hw/virtio-iommu/host_constraints.h"
#include "hw/virtio-iommu/request.h"
#include "virtio/device_base.h"

namespace viommu::hw::virtio_iommu {

enum class Access : uint8_t { kRead, kWrite };

struct Translation {
    bool ok = false;
    uint64_t gpa = 0;
    // Bytes from the IOVA on that translate linearly (to the end of the mapping, or of the address
    // space for identity): a DMA longer than this continues with another translate().
    uint64_t contiguous = 0;
};

// The domain an endpoint is attached to, as host-side reports show it.
struct EndpointAttachment {
    DomainId domain;
    bool bypass = false; // a bypass domain (ATTACH_F_BYPASS): DMA is not translated
};

// A fault the device met (§5.13.6.9 struct virtio_iommu_fault's fields), for host-side reports.
struct FaultRecord {
    uint8_t reason = 0; // wire::kFaultR*
    uint32_t flags = 0;
    EndpointId endpoint;
    uint64_t address = 0;
};

struct IommuStats {
    uint64_t requests = 0;
    uint64_t faults_reported = 0;
    uint64_t faults_dropped = 0; // no event buffer: counted, never silently lost
};

class VirtioIommu final : public virtio::DeviceBase {
public:
    static constexpr uint16_t kQueueSize = 256; // QEMU's VIOMMU_DEFAULT_QUEUE_SIZE

    // The configuration must be valid (config.problems() empty): a host-side error otherwise, thrown
    // as std::invalid_argument.
    VirtioIommu(virtio::GuestMemory& mem, IommuConfig config);

    // An endpoint's DMA access to one address. On failure the device reports a fault on the event queue
    // (§5.13.6.9), as QEMU's translate callback does; an endpoint the device does not manage fails
    // without a report.
    Translation translate(EndpointId endpoint, Iova iova, Access access);

    // Whether an endpoint that is not attached to a domain is in bypass mode right now (§5.13.6).
    bool unattached_bypass() const;
    // The latest fault, whether reported on the event queue or dropped for want of a buffer.
    const std::optional<FaultRecord>& last_fault() const { return last_fault_; }
    // The value of config.bypass.
    uint8_t bypass_field() const { return bypass_; }
    // System reset (not device reset): config.bypass returns to its initial value (§5.13.4.2).
    void system_reset();

    // A device with host IOMMU constraints plugged behind `endpoint`: VFIO's realize at machine init, or
    // a device_add once the machine runs (host_constraints.h). Before machine_ready() the page-size mask
    // narrows; afterwards the granule is frozen and only checked, and a mismatch is refused with QEMU's
    // reason, as QEMU refuses the device_add. The endpoint must be attached to no domain. Returns what
    // QEMU would warn about or what the release does not take.
    [[nodiscard]] Expected<std::vector<std::string>, std::string> plug_host_device(EndpointId endpoint,
                                                                                   const HostIommuConstraints& host);
    // The device behind `endpoint` was unplugged: what its host IOMMU added goes (its reserved regions,
    // its non-coherent mark), as QEMU 9.1's unset_iommu_device() frees the host reserved regions
    // (62ac01d1de50). The page-size mask stays as narrowed: QEMU never widens it again.
    void unplug_host_device(EndpointId endpoint);
    // The machine is ready: QEMU 7.2's phase_check(PHASE_MACHINE_READY), and the machine_done notifier
    // that sets granule_frozen since 94df5b2180. From here page_size_mask no longer changes.
    void machine_ready() { machine_ready_ = true; }
    // Whether page_size_mask is fixed: the machine is ready, or the driver has already read it (a
    // negotiation finished: §5.13.4 gives page_size_mask no change notification).
    bool granule_frozen() const { return machine_ready_ || features_ok(); }

    // The domain the endpoint is attached to; nullopt when it is attached to none.
    std::optional<EndpointAttachment> attachment(EndpointId endpoint) const;

    // A PCI function hot-plugged behind the IOMMU: QEMU's virtio-iommu manages its requester ID from the
    // moment the function is realized (pci_device_iommu_address_space() -> virtio_iommu_find_add_as()).
    // QEMU 7.2 forgets no endpoint when a function is unplugged, so there is no counterpart.
    void add_endpoint(EndpointId endpoint);
    // A fault report the host asks for (viommu's monitor), put on the event queue as translate() puts its
    // own (§5.13.6.9): counted, and dropped when the driver left no event buffer.
    void inject_fault(const FaultRecord& fault) { report_fault(fault.reason, fault.flags, fault.endpoint, fault.address); }

    void set_listener(EndpointId endpoint, MappingListener* listener) { domains_.set_listener(endpoint, listener); }
    const Domains& domains() const { return domains_; }
    const IommuConfig& config() const { return config_; }
    const IommuStats& stats() const { return stats_; }

    uint32_t config_size() const override;

private:
    friend class Snapshot;

    void on_queue_notify(unsigned q) override;
    void on_reset() override;
    void on_status_write(uint8_t requested) override;
    void read_config(uint32_t offset, std::span<uint8_t> out) const override;
    void write_config(uint32_t offset, std::span<const uint8_t> in) override;

    // Handles one request chain, decode -> execute -> encode, and returns the bytes written into its
    // device-writable part.
    uint32_t handle(const virtio::DescriptorChain& chain);
    // Serves a decoded request; `writable_bytes` is the room the driver gave for the answer.
    Expected<void, Error> execute(const Request& request, uint64_t writable_bytes);
    // execute(), turning a host allocation failure into NEEDS_RESET and NOMEM instead of an abort.
    Expected<void, Error> execute_or_give_up(const Request& request, uint64_t writable_bytes);
    Expected<void, Error> check_probe(const ProbeRequest& probe, uint64_t writable_bytes) const;
    // Writes the answer of a request of type `type` with `status`; `answered_probe` is the PROBE whose
    // properties go before the tail (an accepted PROBE), else nullptr.
    uint32_t encode(const virtio::DescriptorChain& chain, uint8_t type, Status status,
                    const ProbeRequest* answered_probe);
    void report_fault(uint8_t reason, uint32_t flags, EndpointId endpoint, uint64_t address);
    Translation fault(uint8_t reason, uint32_t flags, EndpointId endpoint, Iova iova);
    const ReservedRegion* reserved_region_at(EndpointId endpoint, Iova iova) const;
    RequestFeatures request_features() const;

    IommuConfig config_;
    Domains domains_;
    uint8_t bypass_;
    IommuStats stats_;
    std::optional<FaultRecord> last_fault_;
    bool machine_ready_ = false;
};

// The x86 MSI doorbell window QEMU's pc machines reserve for every endpoint (hw/i386/pc.c).
ReservedRegion x86_msi_region();

} // namespace viommu::hw::virtio_iommu
