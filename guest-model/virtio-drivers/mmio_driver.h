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

class VirtioMmioDriver final : public IrqLine {
public:
    // Takes the device's interrupt line until it is destroyed (vm_probe()'s request_irq()).
    explicit VirtioMmioDriver(const MmioDeviceHandle& device);
    VirtioMmioDriver(const VirtioMmioDriver&) = delete;
    VirtioMmioDriver& operator=(const VirtioMmioDriver&) = delete;
    ~VirtioMmioDriver() override;

    // virtio_mmio_probe(): magic value, version 2, a non-zero device ID. The error reads like Linux's.
    [[nodiscard]] Expected<void, std::string> probe();
    uint32_t device_id();

    // virtio_reset_device() and the status helpers of virtio.c.
    void reset();
    void add_status(uint8_t bits);
    uint8_t status();

    virtio::FeatureBits device_features();
    // Writes the features the driver accepts, sets FEATURES_OK and checks that it stuck
    // (virtio_features_ok(): "virtio: device refuses features: %x").
    [[nodiscard]] Expected<void, std::string> finalize_features(virtio::FeatureBits features);
    virtio::FeatureBits negotiated() const { return negotiated_; }

    // vm_setup_vq(): a ring of min(QueueNumMax, max_size) entries; callback runs for used buffers.
    [[nodiscard]] Expected<DriverQueue*, std::string> setup_vq(unsigned index, uint32_t max_size,
                                                               std::function<void()> callback);
    DriverQueue* vq(unsigned index);
    void notify(unsigned index);
    // The CPU waits until queue `index` has used buffers or the device has nothing more to do (a driver
    // polling virtqueue_get_buf(), or sleeping until the used-buffer interrupt).
    void wait_used(unsigned index);
    // The CPU waits until neither the device nor an interrupt handler has anything more to do.
    void wait_idle();
    virtio::GuestMemory& memory() const { return mem_; }
    mm::PhysAllocator& allocator() const { return alloc_; }
    // Adds nothing; kicks if the ring asks for it (virtqueue_kick()).
    void kick(unsigned index);

    void driver_ok() { add_status(virtio::status::kDriverOk); }

    // virtio_cread*(): device-specific configuration, re-read while the generation changes.
    uint64_t config_read(uint32_t offset, unsigned size);
    void config_read_bytes(uint32_t offset, std::span<uint8_t> out);
    void config_write(uint32_t offset, unsigned size, uint64_t value);

    void set_config_callback(std::function<void()> callback) { config_callback_ = std::move(callback); }

    // IrqLine: the device's interrupt line.
    void set_level(bool high) override;
    // vm_interrupt(): read and acknowledge InterruptStatus, dispatch.
    void interrupt();
    uint64_t interrupts_taken() const { return interrupts_; }

private:
    struct Vq {
        std::optional<DriverQueue> ring;
        std::function<void()> callback;
    };
    uint32_t read32(uint32_t offset) { return static_cast<uint32_t>(regs_.read(offset, 4)); }
    void write32(uint32_t offset, uint32_t value) { regs_.write(offset, 4, value); }

    MmioRegion& regs_;
    IrqWire& irq_;
    virtio::GuestMemory& mem_;
    mm::PhysAllocator& alloc_;
    boost::asio::io_context::executor_type executor_;
    WaitForEvent& cpu_;
    virtio::FeatureBits negotiated_ = 0;
    std::vector<Vq> vqs_;
    std::function<void()> config_callback_;
    bool line_high_ = false;
    HandlerMemory handler_memory_; // for the one interrupt handler in flight
    uint64_t interrupts_ = 0;
    std::shared_ptr<bool> alive_;
};

} // namespace viommu::guest::virtio_drivers
