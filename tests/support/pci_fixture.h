// A board with one device behind the virtio-pci transport: guest RAM, an io_context for the device's
// executor, the INTx wire and an MSI sink that records each message. Tests play the driver through
// configuration space and the BARs, as a guest's virtio_pci_modern driver would.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/bus.h"
#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "tests/support/ring_writer.h"
#include "virtio/pci_transport.h"
#include "virtio/wire/pci_regs.h"

namespace viommu::test {

class RecordingMsiSink final : public MsiSink {
public:
    void write(uint64_t address, uint32_t data) override { messages.emplace_back(address, data); }
    std::vector<std::pair<uint64_t, uint32_t>> messages;
};

// Where PciBoard::setup_queue() puts a queue's three areas.
inline constexpr uint64_t kPciDescArea = kRamBase + 0x10000;
inline constexpr uint64_t kPciAvailArea = kRamBase + 0x20000;
inline constexpr uint64_t kPciUsedArea = kRamBase + 0x30000;

// The echo device's PCI identity: 0x1040 + its virtio ID, a class no one else uses.
inline virtio::PciFunctionIdentity echo_identity(uint16_t msix_vectors = 0)
{
    virtio::PciFunctionIdentity id;
    id.device_id = static_cast<uint16_t>(virtio::pci::kModernDeviceIdBase + EchoDevice::kDeviceId);
    id.class_code = 0xff0000;
    id.msix_vectors = msix_vectors;
    return id;
}

template <class Device>
struct PciBoard {
    template <class... Args>
    explicit PciBoard(const virtio::PciFunctionIdentity& identity, Args&&... args)
        : mem(make_ram()), device(mem, std::forward<Args>(args)...),
          transport(device, io.get_executor(), identity, intx, msi)
    {
    }

    // Runs the device work that is ready.
    void run()
    {
        io.poll();
        io.restart();
    }

    uint32_t cfg(uint32_t offset, unsigned size = 4) { return transport.config_read(offset, size); }
    void set_cfg(uint32_t offset, unsigned size, uint32_t value) { transport.config_write(offset, size, value); }
    // Turns on memory decoding and bus mastering, as pci_enable_device() and pci_set_master() do.
    void enable() { set_cfg(virtio::pci::kCommand, 2, virtio::pci::kCommandMemory | virtio::pci::kCommandMaster); }

    MmioRegion& modern() { return *transport.bar(virtio::PciTransport::kModernBar); }
    uint64_t common(uint32_t offset, unsigned size) { return modern().read(virtio::PciTransport::kCommonCfgOffset + offset, size); }
    void set_common(uint32_t offset, unsigned size, uint64_t value)
    {
        modern().write(virtio::PciTransport::kCommonCfgOffset + offset, size, value);
    }
    uint8_t status() { return static_cast<uint8_t>(common(virtio::pci::kDeviceStatus, 1)); }
    void set_status(uint8_t s) { set_common(virtio::pci::kDeviceStatus, 1, s); }
    void notify(unsigned queue)
    {
        modern().write(virtio::PciTransport::kNotifyOffset + virtio::PciTransport::kNotifyOffMultiplier * queue, 2, queue);
    }

    // The offset of the first virtio capability of cfg_type `type` in the capability list, 0 if none.
    uint8_t find_virtio_cap(uint8_t type)
    {
        for (uint8_t at = static_cast<uint8_t>(cfg(virtio::pci::kCapabilityList, 1)); at; at = static_cast<uint8_t>(cfg(at + 1u, 1)))
            if (cfg(at, 1) == virtio::pci::kCapIdVendor && cfg(at + virtio::pci::kCapCfgType, 1) == type)
                return at;
        return 0;
    }

    // ACKNOWLEDGE, DRIVER, every offered feature, FEATURES_OK.
    void negotiate()
    {
        enable();
        set_status(virtio::status::kAcknowledge | virtio::status::kDriver);
        for (uint32_t word = 0; word < 2; ++word) {
            set_common(virtio::pci::kDeviceFeatureSelect, 4, word);
            const uint64_t offered = common(virtio::pci::kDeviceFeature, 4);
            set_common(virtio::pci::kDriverFeatureSelect, 4, word);
            set_common(virtio::pci::kDriverFeature, 4, offered);
        }
        set_status(virtio::status::kAcknowledge | virtio::status::kDriver | virtio::status::kFeaturesOk);
    }

    // Programs queue q with `size` entries at the fixed areas (without enabling it).
    void setup_queue(uint16_t q, uint16_t size)
    {
        set_common(virtio::pci::kQueueSelect, 2, q);
        set_common(virtio::pci::kQueueSize, 2, size);
        set_common(virtio::pci::kQueueDesc, 8, kPciDescArea);
        set_common(virtio::pci::kQueueDriver, 8, kPciAvailArea);
        set_common(virtio::pci::kQueueDevice, 8, kPciUsedArea);
    }

    // negotiate(), queue 0 of `size` entries enabled, DRIVER_OK.
    void bring_up(uint16_t size = 16)
    {
        negotiate();
        setup_queue(0, size);
        set_common(virtio::pci::kQueueEnable, 2, 1);
        set_status(virtio::status::kAcknowledge | virtio::status::kDriver | virtio::status::kFeaturesOk |
                   virtio::status::kDriverOk);
    }

    uint16_t used_idx() { return mem.read_obj<virtio::le16>(GuestAddr(kPciUsedArea + 2))->get(); }

    // Makes one 4-byte request with a 4-byte reply available on queue 0 of `size` entries (descriptors
    // 0 and 1), without notifying.
    void add_echo_chain(uint16_t size = 16)
    {
        RingWriter ring(mem, GuestAddr(kPciDescArea), GuestAddr(kPciAvailArea), size);
        ring.desc(0, kRamBase + 0x40000, 4, virtio::wire::kDescFNext, 1);
        ring.desc(1, kRamBase + 0x50000, 4, virtio::wire::kDescFWrite);
        ring.publish(0);
    }

    boost::asio::io_context io;
    virtio::GuestMemory mem;
    Device device;
    IrqWire intx;
    RecordingMsiSink msi;
    virtio::PciTransport transport;
};

} // namespace viommu::test
