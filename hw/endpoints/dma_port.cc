#include "hw/endpoints/dma_port.h"

#include <algorithm>

namespace viommu::hw::endpoints {

template <class Copy>
Expected<void, DmaFault> DmaPort::access(uint64_t iova, uint64_t len, virtio_iommu::Access access, Copy&& copy)
{
    uint64_t done = 0;
    while (done < len) {
        const uint64_t at = iova + done; // an IOVA range may wrap; the IOMMU decides what that reaches
        uint64_t gpa = at;
        uint64_t chunk = len - done;
        if (iommu_) {
            const auto t = iommu_->translate(virtio_iommu::EndpointId(endpoint_), Iova(at), access);
            if (!t.ok) {
                ++faults_;
                return unexpected(DmaFault{at, false});
            }
            gpa = t.gpa;
            chunk = std::min(chunk, t.contiguous);
        }
        if (!copy(GuestAddr(gpa), done, chunk)) {
            ++faults_;
            return unexpected(DmaFault{at, true});
        }
        done += chunk;
        bytes_ += chunk;
    }
    return {};
}

Expected<void, DmaFault> DmaPort::read(uint64_t iova, std::span<uint8_t> out)
{
    return access(iova, out.size(), virtio_iommu::Access::kRead, [&](GuestAddr gpa, uint64_t off, uint64_t n) {
        return mem_->read(gpa, out.subspan(off, n));
    });
}

Expected<void, DmaFault> DmaPort::write(uint64_t iova, std::span<const uint8_t> in)
{
    return access(iova, in.size(), virtio_iommu::Access::kWrite, [&](GuestAddr gpa, uint64_t off, uint64_t n) {
        return mem_->write(gpa, in.subspan(off, n));
    });
}

} // namespace viommu::hw::endpoints
