#include "guest-model/virtio-drivers/mmio_driver.h"

#include <fmt/format.h>

#include "virtio/wire/mmio_regs.h"

namespace viommu::guest::virtio_drivers {

using namespace virtio::mmio;
namespace status = virtio::status;

VirtioMmioDriver::VirtioMmioDriver(const MmioDeviceHandle& device, VirtioRingBehaviour ring)
    : VirtioTransport(device.memory, device.allocator, device.cpu), regs_(device.regs), irq_(device.irq),
      line_(device.executor, [this] { interrupt(); }), ring_(ring)
{
    irq_.connect(&line_);
}

VirtioMmioDriver::~VirtioMmioDriver()
{
    irq_.connect(nullptr);
}

Expected<void, std::string> VirtioMmioDriver::probe()
{
    const uint32_t magic = read32(kMagicValue);
    if (magic != kMagic)
        return unexpected(fmt::format("Wrong magic value 0x{:08x}!", magic));
    const uint32_t version = read32(kVersion);
    if (version != kVersion2)
        return unexpected(fmt::format("Version {} not supported!", version));
    // Device ID 0 is a placeholder slot: Linux returns -ENODEV without a message.
    if (read32(kDeviceId) == 0)
        return unexpected(std::string("no device (device ID 0)"));
    return {};
}

uint32_t VirtioMmioDriver::device_id()
{
    return read32(kDeviceId);
}

void VirtioMmioDriver::reset()
{
    // vm_reset(): 0 to Status. The rings go with it.
    write32(kStatus, 0);
    drop_queues();
    negotiated_ = 0;
}

void VirtioMmioDriver::set_status(uint8_t s)
{
    write32(kStatus, s);
}

uint8_t VirtioMmioDriver::status()
{
    return static_cast<uint8_t>(read32(kStatus));
}

virtio::FeatureBits VirtioMmioDriver::device_features()
{
    write32(kDeviceFeaturesSel, 1);
    virtio::FeatureBits f = uint64_t{read32(kDeviceFeatures)} << 32;
    write32(kDeviceFeaturesSel, 0);
    return f | read32(kDeviceFeatures);
}

Expected<void, std::string> VirtioMmioDriver::finalize_features(virtio::FeatureBits features)
{
    features = ring_transport_features(features, ring_);
    // vm_finalize_features(): a version 2 device must be driven as a modern device.
    if (!(features & virtio::feature(virtio::kFVersion1)))
        return unexpected(std::string("New virtio-mmio devices (version 2) must provide VIRTIO_F_VERSION_1 feature!"));
    write32(kDriverFeaturesSel, 1);
    write32(kDriverFeatures, static_cast<uint32_t>(features >> 32));
    write32(kDriverFeaturesSel, 0);
    write32(kDriverFeatures, static_cast<uint32_t>(features));
    add_status(status::kFeaturesOk);
    const uint8_t s = status();
    if (!(s & status::kFeaturesOk))
        return unexpected(fmt::format("virtio: device refuses features: {:x}", s));
    negotiated_ = features;
    return {};
}

Expected<DriverQueue*, std::string> VirtioMmioDriver::setup_vq(unsigned index, uint32_t max_size,
                                                              std::function<void()> callback)
{
    write32(kQueueSel, index);
    if (read32(kQueueReady))
        return unexpected(fmt::format("queue {} already set up", index));
    uint32_t num = read32(kQueueNumMax);
    if (num == 0)
        return unexpected(fmt::format("queue {} does not exist", index));
    if (max_size && max_size < num)
        num = max_size;
    auto ring = DriverQueue::create(memory(), allocator(), ring_options(num));
    if (!ring)
        return unexpected(ring.error());
    write32(kQueueNum, num);
    write32(kQueueDescLow, static_cast<uint32_t>(ring->desc_addr().value()));
    write32(kQueueDescHigh, static_cast<uint32_t>(ring->desc_addr().value() >> 32));
    write32(kQueueDriverLow, static_cast<uint32_t>(ring->driver_area().value()));
    write32(kQueueDriverHigh, static_cast<uint32_t>(ring->driver_area().value() >> 32));
    write32(kQueueDeviceLow, static_cast<uint32_t>(ring->device_area().value()));
    write32(kQueueDeviceHigh, static_cast<uint32_t>(ring->device_area().value() >> 32));
    write32(kQueueReady, 1);
    return install_queue(index, std::move(*ring), std::move(callback));
}

Expected<void, std::string> VirtioMmioDriver::find_vqs(std::span<const VqRequest> queues)
{
    for (const VqRequest& q : queues)
        if (auto ring = setup_vq(q.index, 0, q.callback); !ring)
            return unexpected(ring.error());
    return {};
}

void VirtioMmioDriver::notify(unsigned index)
{
    write32(kQueueNotify, index);
}

uint32_t VirtioMmioDriver::config_generation()
{
    return read32(kConfigGeneration);
}

uint64_t VirtioMmioDriver::device_config_read(uint32_t offset, unsigned size)
{
    return regs_.read(kConfig + offset, size);
}

void VirtioMmioDriver::config_write(uint32_t offset, unsigned size, uint64_t value)
{
    regs_.write(kConfig + offset, size, value);
}

void VirtioMmioDriver::interrupt()
{
    const uint32_t isr = read32(kInterruptStatus);
    if (isr == 0)
        return; // IRQ_NONE
    count_interrupt();
    write32(kInterruptAck, isr);
    if (isr & kIntConfig)
        config_changed();
    if (isr & kIntVring)
        vring_interrupt();
}

} // namespace viommu::guest::virtio_drivers
