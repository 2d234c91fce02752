// The device status state machine, feature negotiation and configuration space (virtio v1.2 §2.1-§2.5,
// §3.1), driven through the virtio-mmio registers like a driver would.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"
#include "virtio/wire/mmio_regs.h"

using namespace viommu;
using namespace viommu::test;
namespace st = viommu::virtio::status;
namespace mmio = viommu::virtio::mmio;

namespace {
constexpr virtio::FeatureBits kV1 = virtio::feature(virtio::kFVersion1);

void write_status(Guest<EchoDevice>& g, uint8_t s) { g.transport.write(mmio::kStatus, 4, s); }
void write_features(Guest<EchoDevice>& g, virtio::FeatureBits f)
{
    g.transport.write(mmio::kDriverFeaturesSel, 4, 0);
    g.transport.write(mmio::kDriverFeatures, 4, static_cast<uint32_t>(f));
    g.transport.write(mmio::kDriverFeaturesSel, 4, 1);
    g.transport.write(mmio::kDriverFeatures, 4, static_cast<uint32_t>(f >> 32));
}
} // namespace

TEST_CASE("FEATURES_OK is refused when the driver accepts a feature the device did not offer", "[conformance][virtio][2.2.1]")
{
    Guest<EchoDevice> g;
    write_status(g, st::kAcknowledge | st::kDriver);
    write_features(g, kV1 | virtio::feature(virtio::kFInOrder));
    write_status(g, st::kAcknowledge | st::kDriver | st::kFeaturesOk);
    CHECK((g.status() & st::kFeaturesOk) == 0);
    CHECK_FALSE(g.driver.finalize_features(kV1 | virtio::feature(virtio::kFInOrder)));
}

TEST_CASE("FEATURES_OK is refused without VIRTIO_F_VERSION_1", "[conformance][virtio][6.1]")
{
    Guest<EchoDevice> g;
    write_status(g, st::kAcknowledge | st::kDriver);
    write_features(g, virtio::feature(virtio::kFEventIdx));
    write_status(g, st::kAcknowledge | st::kDriver | st::kFeaturesOk);
    CHECK((g.status() & st::kFeaturesOk) == 0);
}

TEST_CASE("FEATURES_OK sticks for an offered subset including VERSION_1", "[conformance][virtio][3.1.1]")
{
    Guest<EchoDevice> g;
    write_status(g, st::kAcknowledge | st::kDriver);
    write_features(g, kV1 | virtio::feature(virtio::kFEventIdx));
    write_status(g, st::kAcknowledge | st::kDriver | st::kFeaturesOk);
    CHECK(g.status() == (st::kAcknowledge | st::kDriver | st::kFeaturesOk));
    CHECK(g.device.negotiated(virtio::kFEventIdx));
    CHECK_FALSE(g.device.negotiated(virtio::kFIndirectDesc));
}

TEST_CASE("features cannot change after FEATURES_OK", "[conformance][virtio][3.1.1]")
{
    Guest<EchoDevice> g;
    g.bring_up(kV1);
    write_features(g, kV1 | virtio::feature(virtio::kFEventIdx));
    CHECK(g.device.driver_features() == kV1);
}

TEST_CASE("a status write that clears a bit is ignored", "[conformance][virtio][2.1.1]")
{
    Guest<EchoDevice> g;
    write_status(g, st::kAcknowledge | st::kDriver);
    write_status(g, st::kAcknowledge);
    CHECK(g.status() == (st::kAcknowledge | st::kDriver));
}

TEST_CASE("a guest cannot flood the log: a device logs its first 10 guest errors, then says it stops",
          "[unit][virtio]")
{
    std::ostringstream log;
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
    Guest<EchoDevice> g;
    write_status(g, st::kAcknowledge | st::kDriver);
    for (int i = 0; i < 1000; ++i)
        write_status(g, st::kAcknowledge); // each clears DRIVER: a guest error
    spdlog::set_default_logger(previous);
    const std::string text = log.str();
    CHECK(std::count(text.begin(), text.end(), '\n') == EchoDevice::kGuestErrorsLogged + 1);
    CHECK(text.find("further guest errors are not logged") != std::string::npos);
}

TEST_CASE("DRIVER_OK without FEATURES_OK makes the device give up", "[conformance][virtio][3.1.1]")
{
    Guest<EchoDevice> g;
    write_status(g, st::kAcknowledge | st::kDriver | st::kDriverOk);
    CHECK(g.needs_reset());
    CHECK(g.device.broken());
}

TEST_CASE("writing 0 to status resets the device to its power-on state", "[conformance][virtio][2.4]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    g.device.fail("test");
    REQUIRE(g.needs_reset());
    write_status(g, 0);
    CHECK(g.status() == 0);
    CHECK_FALSE(g.device.broken());
    CHECK(g.device.driver_features() == 0);
    CHECK(g.transport.read(mmio::kInterruptStatus, 4) == 0);
    g.transport.write(mmio::kQueueSel, 4, 0);
    CHECK(g.transport.read(mmio::kQueueReady, 4) == 0);
}

TEST_CASE("NEEDS_RESET raises a configuration change interrupt after DRIVER_OK", "[conformance][virtio][2.1.2]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    int config_callbacks = 0;
    g.driver.set_config_callback([&] { ++config_callbacks; });
    g.device.fail("test");
    g.run();
    CHECK(config_callbacks == 1);
    CHECK(g.needs_reset());
}

TEST_CASE("the device consumes no buffer before DRIVER_OK and picks them up at DRIVER_OK", "[conformance][virtio][2.1.2]")
{
    Guest<EchoDevice> g;
    REQUIRE(g.driver.probe());
    g.driver.reset();
    g.driver.add_status(st::kAcknowledge | st::kDriver);
    REQUIRE(g.driver.finalize_features(kV1));
    auto q = g.driver.setup_vq(0, 0, [] {});
    REQUIRE(q);
    const GuestAddr out = *g.alloc.alloc(8), in = *g.alloc.alloc(8);
    const guest::virtio_drivers::Buf o{out, 8}, i{in, 8};
    REQUIRE((*q)->add(std::span(&o, 1), std::span(&i, 1), 1));
    g.driver.notify(0);
    g.run();
    CHECK(g.device.chains == 0);
    g.driver.driver_ok();
    g.run();
    CHECK(g.device.chains == 1);
}

TEST_CASE("configuration space reads 1, 2, 4 and 8 bytes little-endian", "[conformance][virtio][2.5]")
{
    Guest<EchoDevice> g;
    for (uint8_t i = 0; i < 16; ++i)
        g.device.config[i] = static_cast<uint8_t>(0x10 + i);
    CHECK(g.device.config_read(0, 1) == 0x10);
    CHECK(g.device.config_read(2, 2) == 0x1312);
    CHECK(g.device.config_read(4, 4) == 0x17161514);
    CHECK(g.device.config_read(8, 8) == 0x1f1e1d1c1b1a1918ull);
    CHECK(g.driver.config_read(4, 4) == 0x17161514);
}

TEST_CASE("configuration reads outside the space return all ones, writes there are ignored", "[conformance][virtio][2.5]")
{
    Guest<EchoDevice> g;
    CHECK(g.device.config_read(16, 4) == 0xffffffff);
    CHECK(g.device.config_read(14, 4) == 0xffffffff);
    CHECK(g.device.config_read(0, 3) == 0xffffff);
    g.device.config_write(14, 4, 0);
    CHECK(g.device.config[14] == 0);
    g.device.config_write(12, 4, 0x04030201);
    CHECK(g.device.config[12] == 1);
    CHECK(g.device.config[15] == 4);
}

TEST_CASE("a device configuration change moves the generation and notifies the driver", "[conformance][virtio][2.5.1]")
{
    Guest<EchoDevice> g;
    g.bring_up();
    int config_callbacks = 0;
    g.driver.set_config_callback([&] { ++config_callbacks; });
    const uint64_t before = g.transport.read(mmio::kConfigGeneration, 4);
    g.device.bump_config();
    g.run();
    CHECK(g.transport.read(mmio::kConfigGeneration, 4) == before + 1);
    CHECK(config_callbacks == 1);
}
