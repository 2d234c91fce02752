#include "virtio/mmio_transport.h"

#include <utility>

#include "virtio/trace_events.h"
#include "virtio/wire/mmio_regs.h"

namespace viommu::virtio {

using namespace mmio;

MmioTransport::MmioTransport(DeviceBase& device, boost::asio::io_context::executor_type executor, IrqLine& irq)
    : device_(device), notifications_(device, std::move(executor)), irq_(irq)
{
    device_.set_interrupt_listener([this](uint32_t isr) { update_irq(isr); });
}

MmioTransport::~MmioTransport() { device_.set_interrupt_listener(nullptr); }

void MmioTransport::update_irq(uint32_t isr)
{
    const bool level = isr != 0;
    if (level == irq_level_)
        return;
    irq_level_ = level;
    trace_virtio_mmio_setting_irq(level);
    irq_.set_level(level);
}

void MmioTransport::guest_error(uint64_t offset, const char* what)
{
    // QEMU logs these under LOG_GUEST_ERROR and carries on; so do we.
    trace_virtio_mmio_guest_error(offset, what);
}

uint64_t MmioTransport::read(uint64_t offset, unsigned size)
{
    uint64_t value = 0;
    if (offset >= kConfig && offset < kWindowSize) {
        value = device_.config_read(static_cast<uint32_t>(offset - kConfig), size);
    } else if (offset >= kWindowSize) {
        guest_error(offset, "read outside the register window");
    } else if (size != 4 || offset % 4 != 0) {
        // §4.2.2.2: "The driver MUST only use 32 bit wide and aligned reads and writes to access the
        // control registers".
        guest_error(offset, "register read that is not 32-bit wide and aligned");
    } else {
        value = read_register(static_cast<uint32_t>(offset));
    }
    trace_virtio_mmio_read(offset, size, value);
    return value;
}

void MmioTransport::write(uint64_t offset, unsigned size, uint64_t value)
{
    trace_virtio_mmio_write(offset, size, value);
    if (offset >= kConfig && offset < kWindowSize) {
        device_.config_write(static_cast<uint32_t>(offset - kConfig), size, value);
    } else if (offset >= kWindowSize) {
        guest_error(offset, "write outside the register window");
    } else if (size != 4 || offset % 4 != 0) {
        guest_error(offset, "register write that is not 32-bit wide and aligned");
    } else {
        write_register(static_cast<uint32_t>(offset), static_cast<uint32_t>(value));
    }
}

uint32_t MmioTransport::read_register(uint32_t offset)
{
    QueueSlot* slot = device_.queue_slot(queue_sel_);
    switch (offset) {
    case kMagicValue: return kMagic;
    case kVersion: return kVersion2;
    case kDeviceId: return device_.device_id();
    case kVendorId: return kQemuVendorId;
    case kDeviceFeatures:
        return feature_word(device_.device_features(), device_features_sel_);
    case kQueueNumMax: return slot ? slot->max_size : 0; // §4.2.2: 0 when the queue is not available
    case kQueueReady: return slot && slot->ready ? 1 : 0;
    case kInterruptStatus: return device_.interrupt_status();
    case kStatus: return device_.status();
    case kConfigGeneration: return device_.config_generation();
    // §4.2.2: "Reading from a non-existent region ... results in a length of -1" (and base -1): this
    // transport has no shared memory regions.
    case kShmLenLow:
    case kShmLenHigh:
    case kShmBaseLow:
    case kShmBaseHigh: return 0xffffffff;
    case kQueueReset:
        // Resets complete at once, so a driver polling for completion reads 0 (§4.2.3.?: "then read
        // QueueReset until it returns 0").
        return 0;
    default: guest_error(offset, "read of a write-only or unknown register"); return 0;
    }
}

void MmioTransport::write_register(uint32_t offset, uint32_t value)
{
    QueueSlot* slot = device_.queue_slot(queue_sel_);
    auto queue_register = [&](auto&& update) {
        if (!slot || slot->max_size == 0)
            return guest_error(offset, "write to a queue register of a queue that does not exist");
        // The layout of a live queue cannot change under the device.
        if (slot->ready)
            return guest_error(offset, "write to a queue register while the queue is ready");
        update(*slot);
    };
    auto set_low = [](GuestAddr& a, uint32_t v) { a = GuestAddr((a.value() & ~uint64_t{0xffffffff}) | v); };
    auto set_high = [](GuestAddr& a, uint32_t v) { a = GuestAddr((a.value() & 0xffffffff) | (uint64_t{v} << 32)); };

    switch (offset) {
    case kDeviceFeaturesSel: device_features_sel_ = value; break;
    case kDriverFeaturesSel: driver_features_sel_ = value; break;
    case kDriverFeatures: {
        if (driver_features_sel_ > 1)
            return guest_error(offset, "DriverFeaturesSel beyond bit 63");
        if (!device_.set_driver_features(with_feature_word(device_.driver_features(), driver_features_sel_, value)))
            guest_error(offset, "feature write after FEATURES_OK");
        break;
    }
    case kQueueSel: queue_sel_ = value; break;
    case kQueueNum: queue_register([&](QueueSlot& s) { s.size = value; }); break;
    case kQueueDescLow: queue_register([&](QueueSlot& s) { set_low(s.desc, value); }); break;
    case kQueueDescHigh: queue_register([&](QueueSlot& s) { set_high(s.desc, value); }); break;
    case kQueueDriverLow: queue_register([&](QueueSlot& s) { set_low(s.driver, value); }); break;
    case kQueueDriverHigh: queue_register([&](QueueSlot& s) { set_high(s.driver, value); }); break;
    case kQueueDeviceLow: queue_register([&](QueueSlot& s) { set_low(s.device, value); }); break;
    case kQueueDeviceHigh: queue_register([&](QueueSlot& s) { set_high(s.device, value); }); break;
    case kQueueReady:
        if (!slot || slot->max_size == 0)
            return guest_error(offset, "QueueReady for a queue that does not exist");
        device_.set_queue_ready(queue_sel_, value & 1);
        break;
    case kQueueNotify: notifications_.post(value); break;
    case kInterruptAck: device_.ack_interrupt(value); break;
    case kStatus: device_.set_status(static_cast<uint8_t>(value)); break;
    case kShmSel: shm_sel_ = value; break;
    case kQueueReset:
        if (!device_.negotiated(kFRingReset))
            return guest_error(offset, "QueueReset without VIRTIO_F_RING_RESET");
        if (value == 1)
            device_.reset_queue(queue_sel_);
        break;
    default: guest_error(offset, "write to a read-only or unknown register"); break;
    }
}

} // namespace viommu::virtio
