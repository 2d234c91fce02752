// What a request script runs against: a virtio-iommu with the bare request client brought up on it,
// and a way for an endpoint to make DMA through it. Our own device on a machine of ours is one
// (DeviceTarget, below); QEMU's virtio-iommu-pci driven over qtest is another (qemu_target.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "guest-model/virtio-iommu/request_client.h"
#include "hw/virtio-iommu/device.h"
#include "system/machine/machine.h"
#include "system/replay/script.h"

namespace viommu::system::replay {

struct DmaResult {
    enum class Kind { kOk, kFault, kNoEndpoint, kNotComparable } kind = Kind::kOk;
    uint64_t addr = 0; // kOk: the guest-physical address of the first byte
    std::string why;   // kNotComparable: why this target cannot make the access
};

class Target {
public:
    virtual ~Target() = default;
    virtual guest::virtio_iommu::IommuRequestClient& client() = 0;
    // The endpoint's access, page by page as the translation allows, stopping at the first fault.
    virtual DmaResult dma(const DmaOp& op) = 0;
};

// Our virtio-iommu behind virtio-mmio on a machine of its own.
class DeviceTarget final : public Target {
public:
    // A device configuration error is thrown as std::invalid_argument (a host-side mistake).
    explicit DeviceTarget(const hw::virtio_iommu::IommuConfig& config);
    guest::virtio_iommu::IommuRequestClient& client() override { return client_; }
    DmaResult dma(const DmaOp& op) override;

private:
    machine::Machine machine_;
    hw::virtio_iommu::VirtioIommu& device_;
    guest::virtio_iommu::IommuRequestClient client_;
};

} // namespace viommu::system::replay
