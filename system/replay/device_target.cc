#include "system/replay/target.h"

namespace viommu::system::replay {

DeviceTarget::DeviceTarget(const hw::virtio_iommu::IommuConfig& config)
    : device_(machine_.add_device<hw::virtio_iommu::VirtioIommu>(config)), client_(machine_.handle(0))
{
    // The machine powers on through a system reset, as QEMU's does before its guest runs
    // (qemu_system_reset() in qemu_init()): the device's trace starts as QEMU's does.
    device_.system_reset();
}

DmaResult DeviceTarget::dma(const DmaOp& op)
{
    namespace viommu_hw = hw::virtio_iommu;
    if (!device_.config().endpoint_exists(viommu_hw::EndpointId(op.endpoint)))
        return {DmaResult::Kind::kNoEndpoint, 0, {}};
    const viommu_hw::Access access = op.write ? viommu_hw::Access::kWrite : viommu_hw::Access::kRead;
    uint64_t done = 0;
    std::optional<uint64_t> first_gpa;
    while (done < op.len) {
        const auto t = device_.translate(viommu_hw::EndpointId(op.endpoint), Iova(op.addr + done), access);
        if (!t.ok)
            return {DmaResult::Kind::kFault, 0, {}};
        if (!first_gpa)
            first_gpa = t.gpa;
        if (t.contiguous >= op.len - done)
            break;
        done += t.contiguous;
    }
    return {DmaResult::Kind::kOk, *first_gpa, {}};
}

} // namespace viommu::system::replay
