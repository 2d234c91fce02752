// The guest's virtio-mmio driver and virtio core, modelled on Linux's drivers/virtio/virtio_mmio.c and
// virtio.c: probe the register window, reset, walk the status bits, negotiate features, set up
// virtqueues, read configuration with the generation check, and take interrupts.
//
// It sees the device only through an MmioRegion, guest memory and an interrupt line. An interrupt is
// taken asynchronously: a rising line posts the handler (vm_interrupt) to the guest's executor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/bus.h"
#include "base/handler_memory.h"
#include "base/expected.h"
#include "guest-model/virtio-drivers/driver_queue.h"
#include "guest-model/virtio-drivers/edge_irq.h"
#include "guest-model/virtio-drivers/transport.h"
#include "virtio/feature_bits.h"

namespace viommu::guest::virtio_drivers {

// What the board hands the driver of one virtio-mmio device, as firmware describes it to Linux: the
// register window and its interrupt line, guest RAM with the kernel's page allocator, the executor
// interrupts are taken on, and the CPU's wait.
struct MmioDeviceHandle {
    MmioRegion& regs;
    IrqWire& irq;
    virtio::GuestMemory& memory;
    mm::PhysAllocator& allocator;
    boost::asio::io_context::executor_type executor;
    WaitForEvent& cpu;
};

class VirtioMmioDriver final : public VirtioTransport {
public:
    // Takes the device's interrupt line until it is destroyed (vm_probe()'s request_irq()). ring: the
    // kernel release's ring code (the default: a release with packed rings).
    explicit VirtioMmioDriver(const MmioDeviceHandle& device, VirtioRingBehaviour ring = {});
    ~VirtioMmioDriver() override;

    std::string_view name() const override { return "virtio-mmio"; }
    // virtio_mmio_probe(): magic value, version 2, a non-zero device ID. The error reads like Linux's.
    [[nodiscard]] Expected<void, std::string> probe() override;
    uint32_t device_id() override;

    // vm_reset(): 0 to Status. The rings go with it.
    void reset() override;
    uint8_t status() override;

    virtio::FeatureBits device_features() override;
    // vm_finalize_features(): "virtio: device refuses features: %x" when FEATURES_OK does not stick.
    [[nodiscard]] Expected<void, std::string> finalize_features(virtio::FeatureBits features) override;

    // vm_setup_vq(): a ring of min(QueueNumMax, max_size) entries; callback runs for used buffers.
    [[nodiscard]] Expected<DriverQueue*, std::string> setup_vq(unsigned index, uint32_t max_size,
                                                               std::function<void()> callback);
    // vm_find_vqs(): vm_setup_vq() for each, in order; one interrupt line serves them all.
    [[nodiscard]] Expected<void, std::string> find_vqs(std::span<const VqRequest> queues) override;
    void notify(unsigned index) override;

    void config_write(uint32_t offset, unsigned size, uint64_t value) override;

    // vm_interrupt(): read and acknowledge InterruptStatus, dispatch.
    void interrupt();

private:
    void set_status(uint8_t status) override;
    uint32_t config_generation() override;
    uint64_t device_config_read(uint32_t offset, unsigned size) override;
    uint32_t read32(uint32_t offset) { return static_cast<uint32_t>(regs_.read(offset, 4)); }
    void write32(uint32_t offset, uint32_t value) { regs_.write(offset, 4, value); }

    MmioRegion& regs_;
    IrqWire& irq_;
    EdgeIrqHandler line_;
    VirtioRingBehaviour ring_;
};

} // namespace viommu::guest::virtio_drivers
