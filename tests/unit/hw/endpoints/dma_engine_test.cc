// Emulated endpoints really DMA through the IOMMU: bytes land where the mapping says, and an access the
// IOMMU refuses stops the command and shows up as a fault report.
#include <catch2/catch.hpp>

#include "hw/endpoints/dma_engine.h"
#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;
using hw::endpoints::DmaEngine;

namespace {
struct Engine {
    IommuGuest g;
    IrqWire irq;
    DmaEngine engine;
    explicit Engine(DmaEngine::Kind kind, uint32_t endpoint = 8)
        : engine(kind, hw::endpoints::DmaPort(g.machine.memory(), &g.device, endpoint), irq)
    {
    }
    uint32_t command(uint64_t iova, uint32_t len, uint32_t cmd, uint32_t seed = 0)
    {
        engine.write(DmaEngine::kAddrLow, 4, iova & 0xffffffff);
        engine.write(DmaEngine::kAddrHigh, 4, iova >> 32);
        engine.write(DmaEngine::kLength, 4, len);
        engine.write(DmaEngine::kSeed, 4, seed);
        engine.write(DmaEngine::kCommand, 4, cmd);
        return static_cast<uint32_t>(engine.read(DmaEngine::kStatus, 4));
    }
};
constexpr uint64_t kBuf = 0x40100000;
} // namespace

TEST_CASE("a receive DMA lands at the guest-physical address the mapping names", "[unit][endpoints]")
{
    Engine e(DmaEngine::Kind::kNetRx);
    e.g.client.write_bypass(0);
    REQUIRE(e.g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(e.g.client.map(1, 0x10000, 0x11fff, kBuf, VIRTIO_IOMMU_MAP_F_WRITE) == VIRTIO_IOMMU_S_OK);
    CHECK(e.command(0x10800, 6000, DmaEngine::kCmdWrite, 9) == DmaEngine::kStatusOk);
    for (uint64_t i = 0; i < 6000; ++i)
        REQUIRE(*e.g.machine.memory().read_obj<uint8_t>(GuestAddr(kBuf + 0x800 + i)) == DmaEngine::pattern(9, i));
    CHECK(e.engine.read(DmaEngine::kIrqStatus, 4) == 1);
    CHECK(e.irq.level());
    e.engine.write(DmaEngine::kIrqAck, 4, 1);
    CHECK_FALSE(e.irq.level());
}

TEST_CASE("a DMA that runs off its mapping stops there and the IOMMU reports the fault", "[unit][endpoints]")
{
    Engine e(DmaEngine::Kind::kNetRx);
    e.g.client.write_bypass(0);
    REQUIRE(e.g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(e.g.client.map(1, 0x10000, 0x10fff, kBuf, VIRTIO_IOMMU_MAP_F_WRITE) == VIRTIO_IOMMU_S_OK);
    CHECK(e.command(0x10f00, 512, DmaEngine::kCmdWrite) == DmaEngine::kStatusFault);
    CHECK(e.engine.read(DmaEngine::kFaultLow, 4) == 0x11000);
    const auto faults = e.g.client.take_faults();
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].address == 0x11000);
    CHECK(faults[0].flags == VIRTIO_IOMMU_FAULT_F_ADDRESS); // nothing mapped there: not a permission fault
}

TEST_CASE("an assigned function reads guest buffers through its mapping", "[unit][endpoints]")
{
    Engine e(DmaEngine::Kind::kAssigned, 0x10);
    e.g.client.write_bypass(0);
    REQUIRE(e.g.client.attach(2, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(e.g.client.map(2, 0x0, 0xfff, kBuf, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    for (uint8_t i = 0; i < 100; ++i)
        REQUIRE(e.g.machine.memory().write_obj(GuestAddr(kBuf + i), i));
    CHECK(e.command(0, 100, DmaEngine::kCmdRead) == DmaEngine::kStatusOk);
    CHECK(e.engine.read(DmaEngine::kChecksum, 4) == 4950);
    CHECK(e.command(0, 100, DmaEngine::kCmdWrite) == DmaEngine::kStatusFault); // read-only mapping
}

TEST_CASE("a receive engine refuses a read command", "[unit][endpoints]")
{
    Engine e(DmaEngine::Kind::kNetRx);
    CHECK(e.command(0, 16, DmaEngine::kCmdRead) == DmaEngine::kStatusBadCommand);
    CHECK(e.command(0, DmaEngine::kMaxLength + 1, DmaEngine::kCmdWrite) == DmaEngine::kStatusBadCommand);
}

TEST_CASE("an endpoint outside any IOMMU reaches guest-physical memory directly", "[unit][endpoints]")
{
    IommuGuest g;
    IrqWire irq;
    DmaEngine engine(DmaEngine::Kind::kNetRx, hw::endpoints::DmaPort(g.machine.memory(), nullptr, 0x20), irq);
    engine.write(DmaEngine::kAddrLow, 4, kBuf);
    engine.write(DmaEngine::kLength, 4, 4);
    engine.write(DmaEngine::kCommand, 4, DmaEngine::kCmdWrite);
    CHECK(engine.read(DmaEngine::kStatus, 4) == DmaEngine::kStatusOk);
    CHECK(*g.machine.memory().read_obj<uint8_t>(GuestAddr(kBuf + 1)) == DmaEngine::pattern(0, 1));
    CHECK_FALSE(engine.port().behind_iommu());
}
