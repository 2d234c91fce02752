// Endpoint DMA and fault reports (§5.13.6 bypass rules, §5.13.6.5 permissions, §5.13.6.9 faults),
// as QEMU's translate callback does them.
#include <catch2/catch.hpp>

#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;
using hw::virtio_iommu::Access;

namespace {
constexpr uint32_t R = VIRTIO_IOMMU_MAP_F_READ;
constexpr uint32_t W = VIRTIO_IOMMU_MAP_F_WRITE;

void check_fault(const guest::virtio_iommu::FaultEvent& f, guest::virtio_iommu::FaultReason reason, uint32_t flags, uint32_t endpoint,
                 uint64_t address)
{
    CHECK(f.reason == reason);
    CHECK(f.flags == flags);
    CHECK(f.endpoint == endpoint);
    CHECK(f.address == address);
    CHECK(f.reserved_zero());
}
} // namespace

TEST_CASE("a read through a write-only mapping faults with READ and ADDRESS", "[conformance][virtio-iommu][5.13.6.9]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, W) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1010), Access::kRead).ok);
    const auto faults = g.client.take_faults();
    REQUIRE(faults.size() == 1);
    check_fault(faults[0], guest::virtio_iommu::FaultReason::kMapping, VIRTIO_IOMMU_FAULT_F_READ | VIRTIO_IOMMU_FAULT_F_ADDRESS, 8, 0x1010);
}

TEST_CASE("a write through a read-only mapping faults with WRITE and ADDRESS", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1010), Access::kRead).ok);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1010), Access::kWrite).ok);
    const auto faults = g.client.take_faults();
    REQUIRE(faults.size() == 1);
    check_fault(faults[0], guest::virtio_iommu::FaultReason::kMapping, VIRTIO_IOMMU_FAULT_F_WRITE | VIRTIO_IOMMU_FAULT_F_ADDRESS, 8, 0x1010);
}

TEST_CASE("an access with no mapping faults with reason MAPPING and ADDRESS only", "[conformance][virtio-iommu][5.13.6.9]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x5000), Access::kWrite).ok);
    const auto faults = g.client.take_faults();
    REQUIRE(faults.size() == 1);
    check_fault(faults[0], guest::virtio_iommu::FaultReason::kMapping, VIRTIO_IOMMU_FAULT_F_ADDRESS, 8, 0x5000);
}

TEST_CASE("an unattached endpoint without bypass faults with reason DOMAIN", "[conformance][virtio-iommu][5.13.6.9]")
{
    IommuGuest g;
    g.client.write_bypass(0);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(0x11), Iova(0x7000), Access::kRead).ok);
    const auto faults = g.client.take_faults();
    REQUIRE(faults.size() == 1);
    check_fault(faults[0], guest::virtio_iommu::FaultReason::kDomain, VIRTIO_IOMMU_FAULT_F_ADDRESS, 0x11, 0x7000);
}

TEST_CASE("an unattached endpoint in bypass reaches guest memory untranslated", "[conformance][virtio-iommu][5.13.6]")
{
    IommuGuest g; // boot-bypass: config.bypass starts at 1
    REQUIRE(g.client.read_config().bypass == 1);
    const auto t = g.device.translate(hw::virtio_iommu::EndpointId(0x11), Iova(0x7000), Access::kWrite);
    CHECK(t.ok);
    CHECK(t.gpa == 0x7000);
    CHECK(g.client.take_faults().empty());
}

TEST_CASE("the driver turns bypass off through config.bypass", "[conformance][virtio-iommu][5.13.4.1]")
{
    IommuGuest g;
    g.client.write_bypass(0);
    CHECK(g.client.read_config().bypass == 0);
    CHECK_FALSE(g.device.unattached_bypass());
    g.client.write_bypass(1);
    CHECK(g.device.unattached_bypass());
}

TEST_CASE("a config.bypass value other than 0 or 1 makes the device give up, as in QEMU", "[conformance][virtio-iommu][5.13.4.1]")
{
    IommuGuest g;
    g.client.write_bypass(3);
    CHECK(g.needs_reset());
    CHECK(g.client.read_config().bypass == 1); // never presents anything but 0 or 1
}

TEST_CASE("writing config.bypass without BYPASS_CONFIG negotiated makes the device give up, as in QEMU",
          "[conformance][virtio-iommu][5.13.4.1]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
    IommuGuest g(test_config(), o);
    g.client.write_bypass(1); // the value it has: nothing changes, nothing to refuse
    CHECK_FALSE(g.needs_reset());
    // "This applies even if the driver does not accept the VIRTIO_IOMMU_F_BYPASS_CONFIG feature."
    CHECK(g.device.unattached_bypass());
    g.client.write_bypass(0);
    CHECK(g.needs_reset());
    CHECK(g.client.read_config().bypass == 1);
}

TEST_CASE("config.bypass survives a device reset and returns to boot-bypass on a system reset", "[conformance][virtio-iommu][5.13.4.2]")
{
    IommuGuest g;
    g.client.write_bypass(0);
    REQUIRE(g.client.bring_up());
    CHECK(g.client.read_config().bypass == 0);
    g.device.system_reset();
    CHECK(g.device.bypass_field() == 1);
}

TEST_CASE("an endpoint in a bypass domain reaches everything, reserved regions included", "[conformance][virtio-iommu][5.13.6.3]")
{
    auto c = test_config();
    c.reserved.push_back({{}, {Iova(0x9000), Iova(0x9fff)}, hw::virtio_iommu::ResvMemSubtype::kReserved});
    IommuGuest g(c);
    g.client.write_bypass(0);
    REQUIRE(g.client.attach(1, 8, VIRTIO_IOMMU_ATTACH_F_BYPASS) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x9000), Access::kWrite).gpa == 0x9000);
    CHECK(g.client.take_faults().empty());
}

TEST_CASE("an attached endpoint reaches its MSI region untranslated", "[conformance][virtio-iommu][5.13.6.8.1]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    const auto t = g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0xfee01004), Access::kWrite);
    CHECK(t.ok);
    CHECK(t.gpa == 0xfee01004);
}

TEST_CASE("an unattached endpoint outside bypass still reaches its MSI region, as in QEMU", "[conformance][virtio-iommu][qemu]")
{
    IommuGuest g;
    g.client.write_bypass(0);
    CHECK(g.device.translate(hw::virtio_iommu::EndpointId(0x12), Iova(0xfee00000), Access::kWrite).ok);
    CHECK(g.client.take_faults().empty());
}

TEST_CASE("an attached endpoint faults on a RESERVED region", "[conformance][virtio-iommu][5.13.6.8.1]")
{
    auto c = test_config();
    c.reserved.push_back({{{hw::virtio_iommu::EndpointId(8), hw::virtio_iommu::EndpointId(8)}}, {Iova(0x9000), Iova(0x9fff)}, hw::virtio_iommu::ResvMemSubtype::kReserved});
    IommuGuest g(c);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x9abc), Access::kRead).ok);
    const auto faults = g.client.take_faults();
    REQUIRE(faults.size() == 1);
    check_fault(faults[0], guest::virtio_iommu::FaultReason::kMapping, VIRTIO_IOMMU_FAULT_F_ADDRESS, 8, 0x9abc);
}

TEST_CASE("after DETACH the endpoint cannot reach the domain's mappings", "[conformance][virtio-iommu][5.13.6.4.2]")
{
    IommuGuest g;
    g.client.write_bypass(0);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.detach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1000), Access::kRead).ok);
}

TEST_CASE("boot-bypass applies until FEATURES_OK when the device offers no bypass feature", "[conformance][virtio-iommu][5.13.6]")
{
    auto c = test_config();
    c.withheld = virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
    IommuGuest g(c, {}, false);
    CHECK(g.device.unattached_bypass()); // firmware and early boot
    REQUIRE(g.client.bring_up());
    CHECK_FALSE(g.device.unattached_bypass());
}

TEST_CASE("with the legacy F_BYPASS offered there is no bypass before it is negotiated", "[conformance][virtio-iommu][5.13.6]")
{
    auto c = test_config();
    c.legacy_bypass = true; // boot-bypass stays on: it has no say once a bypass feature is offered
    IommuGuest g(c, {}, false);
    CHECK_FALSE(g.device.unattached_bypass());
}

TEST_CASE("the legacy F_BYPASS, when negotiated, puts unattached endpoints in bypass", "[conformance][virtio-iommu][5.13.3]")
{
    auto c = test_config();
    c.legacy_bypass = true;
    c.boot_bypass = false;
    IommuGuest g(c);
    CHECK(g.device.negotiated(VIRTIO_IOMMU_F_BYPASS));
    CHECK_FALSE(g.device.negotiated(VIRTIO_IOMMU_F_BYPASS_CONFIG));
    CHECK(g.device.unattached_bypass());
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~virtio::feature(VIRTIO_IOMMU_F_BYPASS);
    IommuGuest declined(c, o);
    CHECK_FALSE(declined.device.unattached_bypass());
}

TEST_CASE("a fault with no event buffer is counted as dropped", "[conformance][virtio-iommu][5.13.6.9]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.event_buffers = 0;
    IommuGuest g(test_config(), o);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1000), Access::kRead).ok);
    CHECK(g.device.stats().faults_dropped == 1);
    CHECK(g.device.stats().faults_reported == 0);
}

TEST_CASE("an event buffer too small for a fault report makes the device give up, as in QEMU",
          "[conformance][virtio-iommu][5.13.6.9.2]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.event_buffer_size = 16;
    IommuGuest g(test_config(), o);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1000), Access::kRead).ok);
    CHECK(g.client.take_faults().empty());
    CHECK(g.needs_reset());
    CHECK(g.device.stats().faults_dropped == 1);
}

TEST_CASE("every fault is reported while the driver keeps the event queue stocked", "[conformance][virtio-iommu][5.13.6.9]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.event_buffers = 4;
    IommuGuest g(test_config(), o);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    std::size_t seen = 0;
    for (uint64_t i = 0; i < 100; ++i) {
        CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1000 * i), Access::kRead).ok);
        seen += g.client.take_faults().size();
    }
    CHECK(seen == 100);
    CHECK(g.device.stats().faults_dropped == 0);
}

TEST_CASE("DMA from an endpoint the device does not manage fails without a fault report", "[conformance][virtio-iommu][5.13.6.9.2]")
{
    IommuGuest g;
    g.client.write_bypass(0);
    CHECK_FALSE(g.device.translate(hw::virtio_iommu::EndpointId(0x9), Iova(0x1000), Access::kRead).ok);
    CHECK(g.client.take_faults().empty());
    CHECK(g.device.stats().faults_dropped == 0);
}
