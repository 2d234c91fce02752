// The common configuration, notification and device configuration structures of virtio-pci (virtio v1.2
// §4.1.4.3-§4.1.4.8), and the PCI configuration access capability (§4.1.4.9), driven like a driver.
#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "tests/support/pci_fixture.h"

using namespace viommu;
using namespace viommu::test;
namespace pci = viommu::virtio::pci;
namespace st = viommu::virtio::status;
using virtio::PciTransport;

TEST_CASE("device_feature_select selects 32-bit words of the features, 0 beyond bit 63", "[conformance][pci][4.1.4.3]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.set_common(pci::kDeviceFeatureSelect, 4, 0);
    CHECK(b.common(pci::kDeviceFeature, 4) == static_cast<uint32_t>(b.device.device_features()));
    b.set_common(pci::kDeviceFeatureSelect, 4, 1);
    CHECK(b.common(pci::kDeviceFeature, 4) == (b.device.device_features() >> 32));
    b.set_common(pci::kDeviceFeatureSelect, 4, 2);
    CHECK(b.common(pci::kDeviceFeature, 4) == 0);
    CHECK(b.common(pci::kDeviceFeatureSelect, 4) == 2);
}

TEST_CASE("VIRTIO_F_RING_RESET is offered on PCI when the device offers it, as QEMU 7.2 does", "[conformance][pci][2.6.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.set_common(pci::kDeviceFeatureSelect, 4, 1);
    CHECK(b.common(pci::kDeviceFeature, 4) & (1u << (virtio::kFRingReset - 32)));
    CHECK(b.common(pci::kDeviceFeature, 4) & (1u << (virtio::kFVersion1 - 32)));
}

TEST_CASE("driver_feature writes after FEATURES_OK are ignored", "[conformance][pci][3.1.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.negotiate();
    const auto accepted = b.device.driver_features();
    b.set_common(pci::kDriverFeatureSelect, 4, 0);
    b.set_common(pci::kDriverFeature, 4, 0);
    CHECK(b.device.driver_features() == accepted);
    b.set_common(pci::kDriverFeatureSelect, 4, 1);
    CHECK(b.common(pci::kDriverFeature, 4) == (accepted >> 32));
}

TEST_CASE("num_queues is one past the last queue that exists", "[conformance][pci][4.1.4.3]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    CHECK(b.common(pci::kNumQueues, 2) == 1);
}

TEST_CASE("queue_size reads the maximum after reset, 0 for a queue that does not exist", "[conformance][pci][4.1.4.3.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    CHECK(b.common(pci::kQueueSize, 2) == 256);
    b.set_common(pci::kQueueSelect, 2, 1);
    CHECK(b.common(pci::kQueueSize, 2) == 0);
    CHECK(b.common(pci::kQueueEnable, 2) == 0);
    CHECK(b.common(pci::kQueueMsixVector, 2) == pci::kNoVector);
}

TEST_CASE("queue_size is writable down from the maximum; 0 and sizes above it are ignored", "[conformance][pci][4.1.4.3]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.set_common(pci::kQueueSize, 2, 64);
    CHECK(b.common(pci::kQueueSize, 2) == 64);
    b.set_common(pci::kQueueSize, 2, 0);
    b.set_common(pci::kQueueSize, 2, 512);
    CHECK(b.common(pci::kQueueSize, 2) == 64);
}

TEST_CASE("writes to a queue that does not exist change nothing", "[conformance][pci][4.1.4.3.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.negotiate();
    b.set_common(pci::kQueueSelect, 2, 3);
    b.set_common(pci::kQueueSize, 2, 8);
    b.set_common(pci::kQueueDesc, 4, 0x1000);
    b.set_common(pci::kQueueEnable, 2, 1);
    CHECK(b.common(pci::kQueueSize, 2) == 0);
    CHECK(b.common(pci::kQueueDesc, 4) == 0);
    CHECK_FALSE(b.device.broken());
}

TEST_CASE("a queue size that is not a power of 2 fails the device when the queue is enabled", "[conformance][pci][2.7]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.negotiate();
    b.setup_queue(0, 12);
    b.set_common(pci::kQueueEnable, 2, 1);
    CHECK(b.status() & st::kNeedsReset);
    CHECK(b.common(pci::kQueueEnable, 2) == 0);
}

TEST_CASE("enabling a queue whose areas leave guest RAM sets NEEDS_RESET and touches nothing", "[conformance][pci][2.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.negotiate();
    b.setup_queue(0, 16);
    b.set_common(pci::kQueueDevice, 8, kRamBase + kRamSize - 8);
    b.set_common(pci::kQueueEnable, 2, 1);
    CHECK(b.status() & st::kNeedsReset);
    CHECK(b.common(pci::kQueueEnable, 2) == 0);
}

TEST_CASE("writing 0 to queue_enable sets NEEDS_RESET, as QEMU's virtio_error()", "[conformance][pci][4.1.4.3.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.negotiate();
    b.set_common(pci::kQueueEnable, 2, 0);
    CHECK(b.status() & st::kNeedsReset);
}

TEST_CASE("queue registers cannot change while the queue is enabled", "[conformance][pci][4.1.4.3.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    b.set_common(pci::kQueueSize, 2, 8);
    b.set_common(pci::kQueueDesc, 4, 0);
    CHECK(b.common(pci::kQueueSize, 2) == 16);
    CHECK(b.common(pci::kQueueDesc, 8) == kPciDescArea);
}

TEST_CASE("64-bit queue addresses take two 32-bit halves or one 64-bit write", "[conformance][pci][4.1.3.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.set_common(pci::kQueueDriver, 4, 0x89abcdef);
    b.set_common(pci::kQueueDriver + 4, 4, 0x01234567);
    CHECK(b.common(pci::kQueueDriver, 8) == 0x0123456789abcdefull);
    b.set_common(pci::kQueueDevice, 8, 0xfedcba9876543210ull);
    CHECK(b.common(pci::kQueueDevice + 4, 4) == 0xfedcba98);
    CHECK(b.common(pci::kQueueDevice, 4) == 0x76543210);
}

TEST_CASE("common configuration fields answer only at their natural width", "[conformance][pci][4.1.3.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    CHECK(b.common(pci::kQueueSize, 1) == 0);
    CHECK(b.common(pci::kQueueSize, 4) == 0);
    CHECK(b.common(pci::kDeviceFeature + 1, 2) == 0);
    b.set_common(pci::kDeviceStatus, 2, st::kAcknowledge);
    b.set_common(pci::kDeviceStatus - 2, 4, 0x00010000u * st::kAcknowledge);
    CHECK(b.status() == 0);
    CHECK(b.common(pci::kCommonCfgSize, 4) == 0); // past the structure
}

TEST_CASE("read-only common configuration fields ignore writes", "[conformance][pci][4.1.4.3]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.set_common(pci::kNumQueues, 2, 9);
    b.set_common(pci::kDeviceFeature, 4, 0);
    b.set_common(pci::kConfigGeneration, 1, 9);
    b.set_common(pci::kQueueNotifyOff, 2, 9);
    CHECK(b.common(pci::kNumQueues, 2) == 1);
    CHECK(b.common(pci::kDeviceFeature, 4) == static_cast<uint32_t>(b.device.device_features()));
    CHECK(b.common(pci::kConfigGeneration, 1) == 0);
    CHECK(b.common(pci::kQueueNotifyOff, 2) == 0);
}

TEST_CASE("queue_select keeps values below QEMU's 1024 queues only", "[conformance][pci][4.1.4.3]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.set_common(pci::kQueueSelect, 2, 1023);
    CHECK(b.common(pci::kQueueSelect, 2) == 1023);
    CHECK(b.common(pci::kQueueNotifyOff, 2) == 1023);
    b.set_common(pci::kQueueSelect, 2, 1024);
    CHECK(b.common(pci::kQueueSelect, 2) == 1023);
}

TEST_CASE("writing 0 to device_status resets the device, which reads 0 at once", "[conformance][pci][4.1.4.3.1]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    b.bring_up();
    b.set_common(pci::kMsixConfig, 2, 1);
    b.set_status(0);
    CHECK(b.status() == 0);
    CHECK(b.common(pci::kQueueEnable, 2) == 0);
    CHECK(b.common(pci::kQueueSize, 2) == 256);
    CHECK(b.common(pci::kQueueDesc, 8) == 0);
    CHECK(b.common(pci::kMsixConfig, 2) == pci::kNoVector);
    CHECK(b.common(pci::kDriverFeature, 4) == 0);
}

TEST_CASE("config_generation reads the device's generation", "[conformance][pci][4.1.4.3]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    b.device.bump_config();
    b.device.bump_config();
    CHECK(b.common(pci::kConfigGeneration, 1) == 2);
}

TEST_CASE("queue_notify_off is the queue's index: a write at 4q notifies queue q on the device's executor", "[conformance][pci][4.1.4.4]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    CHECK(b.common(pci::kQueueNotifyOff, 2) == 0);
    b.add_echo_chain();
    b.notify(0);
    CHECK(b.device.chains == 0);
    b.run();
    CHECK(b.device.chains == 1);
    CHECK(b.used_idx() == 1);
    CHECK(b.modern().read(PciTransport::kNotifyOffset, 2) == 0);
}

TEST_CASE("a virtio-pci notification for a queue that does not exist is ignored", "[conformance][pci][4.1.4.4]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    b.add_echo_chain();
    b.notify(1);
    b.notify(1023);
    b.run();
    CHECK(b.device.notifies == 0);
    CHECK_FALSE(b.device.broken());
}

TEST_CASE("a notification while bus mastering is off is ignored: the function may not DMA", "[conformance][pci][6.2.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    b.add_echo_chain();
    b.set_cfg(pci::kCommand, 2, pci::kCommandMemory);
    b.notify(0);
    b.run();
    CHECK(b.device.chains == 0);
    b.enable();
    b.notify(0);
    b.run();
    CHECK(b.device.chains == 1);
}

TEST_CASE("queue_reset returns the queue to its reset state when RING_RESET is negotiated", "[conformance][pci][2.6.1]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    b.bring_up();
    b.set_common(pci::kQueueMsixVector, 2, 1);
    b.set_common(pci::kQueueReset, 2, 1);
    CHECK(b.common(pci::kQueueReset, 2) == 0); // the reset is done
    CHECK(b.common(pci::kQueueEnable, 2) == 0);
    CHECK(b.common(pci::kQueueSize, 2) == 256);
    CHECK(b.common(pci::kQueueDesc, 8) == 0);
    CHECK(b.common(pci::kQueueMsixVector, 2) == pci::kNoVector);
    // The driver can set the queue up again while the device is live (§2.6.1.2).
    b.setup_queue(0, 16);
    b.set_common(pci::kQueueEnable, 2, 1);
    CHECK(b.common(pci::kQueueEnable, 2) == 1);
}

TEST_CASE("queue_reset is ignored without RING_RESET", "[conformance][pci][2.6.1]")
{
    PciBoard<EchoDevice> b(echo_identity(), uint16_t{256}, virtio::FeatureBits{0});
    b.bring_up();
    b.set_common(pci::kQueueReset, 2, 1);
    CHECK(b.common(pci::kQueueEnable, 2) == 1);
}

TEST_CASE("the device configuration structure is the device's configuration space", "[conformance][pci][4.1.4.6]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.modern().write(PciTransport::kDeviceCfgOffset + 4, 4, 0x11223344);
    CHECK(b.device.config[4] == 0x44);
    CHECK(b.modern().read(PciTransport::kDeviceCfgOffset + 6, 2) == 0x1122);
    CHECK(b.modern().read(PciTransport::kDeviceCfgOffset + 16, 4) == 0xffffffff); // past it
}

TEST_CASE("BAR accesses that are not 1, 2, 4 or 8 bytes inside one structure read 0 and change nothing", "[conformance][pci][4.1.3.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    CHECK(b.modern().read(PciTransport::kIsrOffset - 2, 4) == 0);
    CHECK(b.modern().read(PciTransport::kModernBarSize, 4) == 0);
    CHECK(b.modern().read(pci::kDeviceStatus, 3) == 0);
    b.modern().write(PciTransport::kDeviceCfgOffset - 1, 2, 0xffff);
    CHECK(b.device.config[0] == 0);
}

TEST_CASE("the PCI configuration access capability reads and writes the modern BAR through configuration space", "[conformance][pci][4.1.4.9]")
{
    PciBoard<EchoDevice> b(echo_identity());
    const uint8_t cap = b.find_virtio_cap(pci::kCapPciCfg);
    REQUIRE(cap != 0);
    // No memory decoding: the window is how firmware reaches the structures before BARs are set up.
    b.set_cfg(cap + pci::kCapBar, 1, PciTransport::kModernBar);
    b.set_cfg(cap + pci::kCapLength, 4, 1);
    b.set_cfg(cap + pci::kCapOffset, 4, pci::kDeviceStatus);
    b.set_cfg(cap + pci::kPciCfgData, 4, st::kAcknowledge);
    CHECK(b.device.status() == st::kAcknowledge);
    b.set_cfg(cap + pci::kCapLength, 4, 2);
    b.set_cfg(cap + pci::kCapOffset, 4, pci::kQueueSize);
    CHECK(b.cfg(cap + pci::kPciCfgData, 2) == 256);
}

TEST_CASE("a configuration access window naming another BAR, a bad length or an unaligned offset does nothing", "[conformance][pci][4.1.4.9]")
{
    PciBoard<EchoDevice> b(echo_identity());
    const uint8_t cap = b.find_virtio_cap(pci::kCapPciCfg);
    const auto poke = [&](uint8_t bar, uint32_t length, uint32_t offset) {
        b.set_cfg(cap + pci::kCapBar, 1, bar);
        b.set_cfg(cap + pci::kCapLength, 4, length);
        b.set_cfg(cap + pci::kCapOffset, 4, offset);
        b.set_cfg(cap + pci::kPciCfgData, 4, st::kAcknowledge);
    };
    poke(0, 1, pci::kDeviceStatus);
    poke(PciTransport::kModernBar, 3, pci::kDeviceStatus);
    poke(PciTransport::kModernBar, 2, pci::kDeviceStatus + 1);
    poke(PciTransport::kModernBar, 1, PciTransport::kModernBarSize);
    CHECK(b.device.status() == 0);
}

TEST_CASE("transport guest errors go through the device's rate-limited log", "[conformance][pci]")
{
    std::ostringstream out;
    auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(logger);
    {
        PciBoard<EchoDevice> b(echo_identity());
        b.enable();
        for (int i = 0; i < 20; ++i)
            b.set_common(pci::kNumQueues, 2, 1);
    }
    spdlog::set_default_logger(previous);
    const std::string log = out.str();
    CHECK(log.find("virtio-pci common configuration at 0x12: write to a read-only field") != std::string::npos);
    CHECK(static_cast<unsigned>(std::count(log.begin(), log.end(), '\n')) == virtio::DeviceBase::kGuestErrorsLogged + 1);
}
