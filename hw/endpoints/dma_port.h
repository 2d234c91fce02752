// An endpoint's path to memory: every access goes through the virtio-iommu's translate() (as an
// endpoint's bus-master access goes through QEMU's IOMMU memory region), page by page, and stops at the
// first fault, which the IOMMU has reported on its event queue. An endpoint the IOMMU does not manage
// (a device with iommu='off') reaches guest-physical memory directly.
#pragma once

#include <cstdint>
#include <span>

#include "base/expected.h"
#include "hw/virtio-iommu/device.h"
#include "virtio/guest_memory.h"

namespace viommu::hw::endpoints {

struct DmaFault {
    uint64_t iova;   // the first address that did not translate
    bool translated; // false: the IOMMU refused it (a fault report); true: it translated outside RAM
};

class DmaPort {
public:
    // iommu may be nullptr: the endpoint is not behind an IOMMU.
    DmaPort(virtio::GuestMemory& mem, virtio_iommu::VirtioIommu* iommu, uint32_t endpoint_id)
        : mem_(&mem), iommu_(iommu), endpoint_(endpoint_id)
    {
    }

    [[nodiscard]] Expected<void, DmaFault> read(uint64_t iova, std::span<uint8_t> out);
    [[nodiscard]] Expected<void, DmaFault> write(uint64_t iova, std::span<const uint8_t> in);

    uint32_t endpoint_id() const { return endpoint_; }
    bool behind_iommu() const { return iommu_ != nullptr; }
    uint64_t bytes_moved() const { return bytes_; }
    uint64_t faults() const { return faults_; }

private:
    template <class Copy>
    Expected<void, DmaFault> access(uint64_t iova, uint64_t len, virtio_iommu::Access access, Copy&& copy);

    virtio::GuestMemory* mem_;
    virtio_iommu::VirtioIommu* iommu_;
    uint32_t endpoint_;
    uint64_t bytes_ = 0;
    uint64_t faults_ = 0;
};

} // namespace viommu::hw::endpoints
