// An EchoDevice that offers VIRTIO_F_RING_PACKED, behind virtio-mmio, with queue 0 brought up as a packed
// ring the test writes by hand (PackedRingWriter): the device side of §2.8 without a guest driver.
#pragma once

#include <stdexcept>

#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "tests/support/packed_ring_writer.h"
#include "virtio/wire/mmio_regs.h"

namespace viommu::test {

inline constexpr virtio::FeatureBits kPackedEchoFeatures =
    virtio::feature(virtio::kFIndirectDesc) | virtio::feature(virtio::kFEventIdx) |
    virtio::feature(virtio::kFRingReset) | virtio::feature(virtio::kFRingPacked);

struct PackedGuest {
    // `accepted`: the features the driver accepts (0: all the device offers).
    explicit PackedGuest(uint16_t size = 8, virtio::FeatureBits accepted = 0) : g(size, kPackedEchoFeatures), size(size)
    {
        namespace mmio = virtio::mmio;
        g.driver.reset();
        g.driver.add_status(virtio::status::kAcknowledge | virtio::status::kDriver);
        // Through the registers: the test lays out the ring itself, so the driver's own negotiation (which
        // would take RING_PACKED and expect to build the queue) stays out of it.
        const virtio::FeatureBits features = accepted ? accepted : g.driver.device_features();
        for (uint32_t sel = 0; sel < 2; ++sel) {
            g.transport.write(mmio::kDriverFeaturesSel, 4, sel);
            g.transport.write(mmio::kDriverFeatures, 4, virtio::feature_word(features, sel));
        }
        g.driver.add_status(virtio::status::kFeaturesOk);
        if (!(g.status() & virtio::status::kFeaturesOk))
            throw std::runtime_error("the device refused the features");
        enable(desc, driver, device, size);
        g.driver.add_status(virtio::status::kDriverOk);
    }

    // Programs queue 0's registers and enables it (virtio-mmio, §4.2.3.2).
    void enable(GuestAddr d, GuestAddr dr, GuestAddr dv, uint32_t n)
    {
        namespace mmio = virtio::mmio;
        g.transport.write(mmio::kQueueSel, 4, 0);
        g.transport.write(mmio::kQueueNum, 4, n);
        g.transport.write(mmio::kQueueDescLow, 4, static_cast<uint32_t>(d.value()));
        g.transport.write(mmio::kQueueDescHigh, 4, static_cast<uint32_t>(d.value() >> 32));
        g.transport.write(mmio::kQueueDriverLow, 4, static_cast<uint32_t>(dr.value()));
        g.transport.write(mmio::kQueueDriverHigh, 4, static_cast<uint32_t>(dr.value() >> 32));
        g.transport.write(mmio::kQueueDeviceLow, 4, static_cast<uint32_t>(dv.value()));
        g.transport.write(mmio::kQueueDeviceHigh, 4, static_cast<uint32_t>(dv.value() >> 32));
        g.transport.write(mmio::kQueueReady, 4, 1);
    }

    // Notifies queue 0 and runs the device.
    void kick()
    {
        g.driver.notify(0);
        g.run();
    }
    uint64_t b(uint64_t offset = 0) const { return buf.value() + offset; }

    Guest<EchoDevice> g;
    uint32_t size;
    GuestAddr desc = *g.alloc.alloc(16ull * size, 16);
    GuestAddr driver = *g.alloc.alloc(4, 4);
    GuestAddr device = *g.alloc.alloc(4, 4);
    GuestAddr buf = *g.alloc.alloc(64 * 1024, 4096); // ordinary buffer space
    PackedRingWriter ring{g.mem, desc, driver, device, size};
};

} // namespace viommu::test
