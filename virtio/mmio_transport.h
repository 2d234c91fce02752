// The virtio-mmio transport, version 2 (virtio v1.2 §4.2): a register window in front of a DeviceBase.
//
// Register accesses are handled synchronously, like a trapped MMIO access in QEMU. A QueueNotify write
// posts the queue's processing to the device's executor (a Boost.Asio strand or io_context) through a
// NotifyPoster; the device's interrupts drive an IrqLine.
#pragma once

#include <cstdint>

#include <boost/asio/io_context.hpp>

#include "base/bus.h"
#include "virtio/device_base.h"
#include "virtio/notify_poster.h"

namespace viommu::virtio {

class MmioTransport final : public MmioRegion {
public:
    // QEMU's virtio-mmio vendor ID ("QEMU"), which drivers ignore.
    static constexpr uint32_t kQemuVendorId = 0x554d4551;

    MmioTransport(DeviceBase& device, boost::asio::io_context::executor_type executor, IrqLine& irq);
    MmioTransport(const MmioTransport&) = delete;
    MmioTransport& operator=(const MmioTransport&) = delete;
    ~MmioTransport() override;

    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, unsigned size, uint64_t value) override;

    DeviceBase& device() { return device_; }

private:
    uint32_t read_register(uint32_t offset);
    void write_register(uint32_t offset, uint32_t value);
    void guest_error(uint64_t offset, const char* what);
    void update_irq(uint32_t isr);

    DeviceBase& device_;
    NotifyPoster notifications_;
    IrqLine& irq_;
    uint32_t device_features_sel_ = 0;
    uint32_t driver_features_sel_ = 0;
    uint32_t queue_sel_ = 0;
    uint32_t shm_sel_ = 0;
    bool irq_level_ = false;
};

} // namespace viommu::virtio
