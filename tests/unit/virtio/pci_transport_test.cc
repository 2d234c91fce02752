// How a virtio-pci function interrupts (virtio v1.2 §4.1.4.5, §4.1.5.1.2, §4.1.5.3; PCI 3.0 §6.8.2):
// INTx and the ISR status while MSI-X is off, MSI-X vectors with masking and pending bits while it is on.
#include <catch2/catch.hpp>

#include "tests/support/pci_fixture.h"

using namespace viommu;
using namespace viommu::test;
namespace pci = viommu::virtio::pci;
using virtio::PciTransport;

namespace {

constexpr uint8_t kMsixCap = 0x98; // the capability of a function with vectors (pci_config_space_test.cc)

template <class Device>
void program_vector(PciBoard<Device>& b, uint32_t vector, uint64_t address, uint32_t data, bool masked = false)
{
    MmioRegion& table = *b.transport.bar(PciTransport::kMsixBar);
    table.write(16 * vector + pci::kMsixEntryLowerAddr, 8, address);
    table.write(16 * vector + pci::kMsixEntryData, 4, data);
    table.write(16 * vector + pci::kMsixEntryVectorCtrl, 4, masked ? 1 : 0);
}

template <class Device>
void set_msix_control(PciBoard<Device>& b, uint16_t flags)
{
    b.set_cfg(kMsixCap + pci::kMsixFlags, 2, flags);
}

// A function with two vectors, brought up with queue 0 on vector 1 and configuration changes on
// vector 0, MSI-X enabled.
PciBoard<EchoDevice>& msix_board(PciBoard<EchoDevice>& b)
{
    b.bring_up();
    program_vector(b, 0, 0xfee00000, 0x40);
    program_vector(b, 1, 0xfee01000, 0x41);
    b.set_common(pci::kMsixConfig, 2, 0);
    b.set_common(pci::kQueueMsixVector, 2, 1);
    set_msix_control(b, pci::kMsixFlagsEnable);
    return b;
}

void echo_once(PciBoard<EchoDevice>& b)
{
    b.add_echo_chain();
    b.notify(0);
    b.run();
}

} // namespace

TEST_CASE("without MSI-X a used buffer raises INTx until the driver reads the ISR status, which clears it", "[conformance][pci][4.1.4.5.1]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    echo_once(b);
    CHECK(b.intx.level());
    CHECK(b.cfg(pci::kStatus, 2) & pci::kStatusInterrupt);
    CHECK(b.modern().read(PciTransport::kIsrOffset, 1) == virtio::kIsrQueue);
    CHECK_FALSE(b.intx.level());
    CHECK(b.modern().read(PciTransport::kIsrOffset, 1) == 0);
    CHECK_FALSE(b.cfg(pci::kStatus, 2) & pci::kStatusInterrupt);
}

TEST_CASE("a configuration change sets ISR bit 1", "[conformance][pci][4.1.4.5]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    b.device.bump_config();
    CHECK(b.intx.level());
    CHECK(b.modern().read(PciTransport::kIsrOffset, 1) == virtio::kIsrConfig);
}

TEST_CASE("the ISR status ignores writes", "[conformance][pci][4.1.4.5]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    b.device.bump_config();
    b.modern().write(PciTransport::kIsrOffset, 1, 0);
    CHECK(b.intx.level());
}

TEST_CASE("Interrupt Disable keeps INTx low while Interrupt Status shows the interrupt", "[conformance][pci][6.2.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.bring_up();
    b.set_cfg(pci::kCommand, 2, pci::kCommandMemory | pci::kCommandMaster | pci::kCommandIntxDisable);
    echo_once(b);
    CHECK_FALSE(b.intx.level());
    CHECK(b.cfg(pci::kStatus, 2) & pci::kStatusInterrupt);
    b.enable();
    CHECK(b.intx.level());
}

TEST_CASE("a vector beyond the MSI-X table reads back VIRTIO_MSI_NO_VECTOR", "[conformance][pci][4.1.5.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    b.enable();
    b.set_common(pci::kMsixConfig, 2, 1);
    CHECK(b.common(pci::kMsixConfig, 2) == 1);
    b.set_common(pci::kMsixConfig, 2, 2);
    CHECK(b.common(pci::kMsixConfig, 2) == pci::kNoVector);
    b.set_common(pci::kQueueMsixVector, 2, 7);
    CHECK(b.common(pci::kQueueMsixVector, 2) == pci::kNoVector);
}

TEST_CASE("a function without MSI-X maps no vector", "[conformance][pci][4.1.5.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.enable();
    b.set_common(pci::kQueueMsixVector, 2, 0);
    CHECK(b.common(pci::kQueueMsixVector, 2) == pci::kNoVector);
}

TEST_CASE("with MSI-X enabled a used buffer writes its queue vector's data to its address, and INTx stays low", "[conformance][pci][4.1.5.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    msix_board(b);
    echo_once(b);
    REQUIRE(b.msi.messages.size() == 1);
    CHECK(b.msi.messages[0] == std::pair<uint64_t, uint32_t>{0xfee01000, 0x41});
    CHECK_FALSE(b.intx.level());
}

TEST_CASE("with MSI-X enabled a configuration change sends the configuration vector", "[conformance][pci][4.1.5.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    msix_board(b);
    b.device.bump_config();
    REQUIRE(b.msi.messages.size() == 1);
    CHECK(b.msi.messages[0] == std::pair<uint64_t, uint32_t>{0xfee00000, 0x40});
}

TEST_CASE("an event mapped to VIRTIO_MSI_NO_VECTOR sends nothing", "[conformance][pci][4.1.5.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    msix_board(b);
    b.set_common(pci::kMsixConfig, 2, pci::kNoVector);
    b.device.bump_config();
    CHECK(b.msi.messages.empty());
}

TEST_CASE("a masked vector sets its pending bit and is sent when unmasked", "[conformance][pci][6.8.2.9]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    msix_board(b);
    MmioRegion& table = *b.transport.bar(PciTransport::kMsixBar);
    table.write(16 + pci::kMsixEntryVectorCtrl, 4, 1);
    echo_once(b);
    CHECK(b.msi.messages.empty());
    CHECK(table.read(0x800, 4) == 0b10);
    table.write(16 + pci::kMsixEntryVectorCtrl, 4, 0);
    CHECK(b.msi.messages.size() == 1);
    CHECK(table.read(0x800, 4) == 0);
}

TEST_CASE("the function mask holds every vector pending until it is cleared", "[conformance][pci][6.8.2.3]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    msix_board(b);
    set_msix_control(b, pci::kMsixFlagsEnable | pci::kMsixFlagsMaskAll);
    echo_once(b);
    b.device.bump_config();
    CHECK(b.msi.messages.empty());
    CHECK(b.transport.msix()->pending(0));
    CHECK(b.transport.msix()->pending(1));
    set_msix_control(b, pci::kMsixFlagsEnable);
    CHECK(b.msi.messages.size() == 2);
}

TEST_CASE("MSI-X vectors start masked after reset", "[conformance][pci][6.8.2.9]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    b.enable();
    CHECK(b.transport.bar(PciTransport::kMsixBar)->read(pci::kMsixEntryVectorCtrl, 4) == 1);
}

TEST_CASE("the PBA is read-only and the table takes only aligned DWORDs and QWORDs", "[conformance][pci][6.8.2]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    b.enable();
    MmioRegion& table = *b.transport.bar(PciTransport::kMsixBar);
    table.write(0x800, 4, 0xffffffff);
    CHECK(table.read(0x800, 4) == 0);
    table.write(pci::kMsixEntryData, 2, 0x1234);
    table.write(pci::kMsixEntryData + 2, 4, 0x1234);
    CHECK(table.read(pci::kMsixEntryData, 4) == 0);
    CHECK(table.read(pci::kMsixEntryData, 2) == 0);
    table.write(pci::kMsixEntryData, 4, 0x1234);
    CHECK(table.read(pci::kMsixEntryData, 4) == 0x1234);
}

TEST_CASE("no MSI-X message leaves while bus mastering is off", "[conformance][pci][6.8.2]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    msix_board(b);
    b.set_cfg(pci::kCommand, 2, pci::kCommandMemory);
    b.device.bump_config();
    CHECK(b.msi.messages.empty());
}

TEST_CASE("a device reset unmaps every vector", "[conformance][pci][4.1.5.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    msix_board(b);
    b.set_status(0);
    CHECK(b.common(pci::kMsixConfig, 2) == pci::kNoVector);
    CHECK(b.common(pci::kQueueMsixVector, 2) == pci::kNoVector);
}
