// The guest's virtio-iommu driver, modelled on Linux's drivers/iommu/virtio-iommu.c (6.12, with the
// differences of older releases as switches): it negotiates features, reads the configuration, keeps
// the event queue stocked and logs fault reports, probes endpoints with PROBE, allocates domains,
// attaches endpoints and maps and unmaps for the IOMMU core. It reaches the device only through its
// virtio transport (registers, rings in guest memory, interrupts).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <linux/virtio_iommu.h>

#include "guest-model/driver-core/device.h"
#include "guest-model/iommu/iommu_ops.h"
#include "guest-model/kernel/printk.h"
#include "guest-model/kernel/ratelimit.h"
#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio-iommu/behaviour.h"
#include "guest-model/virtio-iommu/fault_event.h"
#include "guest-model/virtio-iommu/probe_properties.h"
#include "guest-model/virtio-drivers/transport.h"

namespace viommu::guest::virtio_iommu {

class ViommuDomain;

class ViommuDriver final : public iommu::IommuDriver {
public:
    struct Context {
        kernel::KernelLog& log;
        const kernel::VirtualClock& clock;
        virtio::GuestMemory& memory;
        mm::PhysAllocator& allocator;
    };

    ViommuDriver(driver_core::Device& vdev, virtio_drivers::VirtioTransport& transport, Context context, ViommuBehaviour behaviour);
    ~ViommuDriver() override;

    // virtio_dev_probe() and viommu_probe(): 0, or a negative errno (the device is then not used).
    int probe();
    bool ready() const { return ready_; }

    // iommu::IommuDriver
    const std::string& instance_name() const override { return name_; }
    int probe_device(driver_core::Device& dev, const std::vector<uint32_t>& ids) override;
    void release_device(driver_core::Device& dev) override;
    std::vector<iommu::ResvRegion> resv_regions(driver_core::Device& dev) override;
    bool capable(driver_core::Device& dev, iommu::Cap cap) const override;
    uint64_t pgsize_bitmap() const override { return page_size_mask_; }
    iommu::Geometry geometry() const override { return geometry_; }
    std::unique_ptr<iommu::Domain> domain_alloc(iommu::DomainType type) override;
    int attach_dev(iommu::Domain& domain, driver_core::Device& dev) override;
    int map_pages(iommu::Domain& domain, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount, int prot,
                  uint64_t& mapped) override;
    uint64_t unmap_pages(iommu::Domain& domain, uint64_t iova, uint64_t pgsize, uint64_t pgcount) override;
    void iotlb_sync_map(iommu::Domain& domain) override;
    void iotlb_sync(iommu::Domain& domain) override;
    void flush_iotlb_all(iommu::Domain& domain) override;

    virtio::FeatureBits negotiated() const { return transport_.negotiated(); }
    uint64_t faults_logged() const { return faults_; }
    // What the driver has put on the request queue, and how often it waited for the device: the events
    // behind the cost of a DMA mapping (viommu-boot --workload counts them).
    struct Traffic {
        uint64_t map = 0;   // MAP requests added
        uint64_t unmap = 0; // UNMAP requests added
        uint64_t other = 0; // ATTACH, DETACH, PROBE
        uint64_t syncs = 0; // __viommu_sync_req() calls that had requests to wait for
        uint64_t kicks = 0; // notifications the transport sent the device (virtqueue_kick())
    };
    Traffic traffic() const;
    // A request the device never returned: the guest would spin in __viommu_sync_req() for ever.
    bool hung() const { return hung_; }

private:
    friend class ViommuDomain;
    struct Request {
        GuestAddr buf;
        uint32_t len;
        uint32_t write_offset;
        std::vector<uint8_t>* writeback;
    };
    struct Endpoint {
        std::vector<uint32_t> ids;
        std::vector<iommu::ResvRegion> resv;
        ViommuDomain* vdomain = nullptr;
        // The device marked the endpoint's DMA non-coherent (the experimental extension, negotiated).
        bool noncoherent = false;
    };

    // The request machinery: __viommu_add_req(), __viommu_sync_req(), viommu_send_req_sync().
    int add_req(std::vector<uint8_t>& buf, uint32_t write_offset, std::vector<uint8_t>* writeback);
    int sync_req();
    int send_req_sync(std::vector<uint8_t>& buf, uint32_t write_offset);
    int fill_event_queue();
    void event_handler();
    void fault_handler(const FaultEvent& fault);
    int probe_endpoint(driver_core::Device& dev, Endpoint& ep);
    int add_resv_mem(Endpoint& ep, const probe::RawProperty& prop);
    int add_x_noncoherent(Endpoint& ep, const probe::RawProperty& prop);
    int domain_finalise(ViommuDomain& vdomain, const Endpoint& ep);
    int replay_mappings(ViommuDomain& vdomain);
    int send_map(ViommuDomain& vdomain, uint64_t iova, uint64_t end, uint64_t paddr, uint32_t flags, bool sync);

    driver_core::Device& vdev_;
    std::string name_;
    virtio_drivers::VirtioTransport& transport_;
    Context ctx_;
    ViommuBehaviour behaviour_;
    bool ready_ = false;
    bool hung_ = false;
    uint64_t page_size_mask_ = 0;
    iommu::Geometry geometry_;
    uint32_t first_domain_ = 0;
    uint32_t last_domain_ = UINT32_MAX;
    // The ID viommu_probe() takes out of the range for the static bypass domain (0d76a6edae9e, v6.16).
    std::optional<uint32_t> identity_domain_id_;
    uint32_t probe_size_ = 0;
    uint32_t map_flags_ = 0;
    std::map<uint64_t, Request> requests_; // by token, in the order they were added
    uint64_t next_token_ = 1;
    GuestAddr events_;
    uint32_t nr_events_ = 0;
    std::map<driver_core::Device*, Endpoint> endpoints_;
    std::set<uint32_t> domain_ids_; // the IDA
    kernel::Ratelimit fault_ratelimit_{"viommu_fault_handler"};
    uint64_t faults_ = 0;
    Traffic traffic_;
};

} // namespace viommu::guest::virtio_iommu
