// The PCI configuration space of a virtio-pci function (virtio v1.2 §4.1.2, §4.1.4; PCI 3.0 §6.1,
// §6.2.5), laid out as QEMU 7.2's hw/virtio/virtio-pci.c lays out a modern-only function.
#include <catch2/catch.hpp>

#include "tests/support/pci_fixture.h"

using namespace viommu;
using namespace viommu::test;
namespace pci = viommu::virtio::pci;
using virtio::PciTransport;

TEST_CASE("a modern-only function reads vendor 0x1af4, device 0x1040 + its virtio ID and revision 1", "[conformance][pci][4.1.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    CHECK(b.cfg(pci::kVendorId, 2) == 0x1af4);
    CHECK(b.cfg(pci::kDeviceId, 2) == 0x1040 + EchoDevice::kDeviceId);
    CHECK(b.cfg(pci::kRevisionId, 1) == 1);
    CHECK(b.cfg(pci::kSubsystemVendorId, 2) == 0x1af4);
    CHECK(b.cfg(pci::kSubsystemId, 2) >= 0x40); // §4.1.2.1
    CHECK((b.cfg(pci::kRevisionId, 4) >> 8) == 0xff0000);
}

TEST_CASE("a transport refuses a PCI device ID that is not 0x1040 + the virtio device ID", "[unit][pci][4.1.2]")
{
    virtio::PciFunctionIdentity id = echo_identity();
    id.device_id = 0x1000; // a transitional ID
    CHECK_THROWS_AS(PciBoard<EchoDevice>(id), std::invalid_argument);
}

TEST_CASE("the header is type 0, single function, interrupt pin INTA, with a capability list", "[conformance][pci]")
{
    PciBoard<EchoDevice> b(echo_identity());
    CHECK(b.cfg(pci::kHeaderType, 1) == 0);
    CHECK(b.cfg(pci::kInterruptPin, 1) == 1);
    CHECK(b.cfg(pci::kStatus, 2) & pci::kStatusCapList);
    CHECK(b.cfg(pci::kCapabilityList, 1) >= pci::kFirstCapability);
}

TEST_CASE("read-only configuration fields ignore writes", "[conformance][pci]")
{
    PciBoard<EchoDevice> b(echo_identity());
    b.set_cfg(pci::kVendorId, 4, 0);
    b.set_cfg(pci::kRevisionId, 4, 0);
    b.set_cfg(pci::kCapabilityList, 1, 0);
    CHECK(b.cfg(pci::kVendorId, 2) == 0x1af4);
    CHECK((b.cfg(pci::kRevisionId, 4) >> 8) == 0xff0000);
    CHECK(b.cfg(pci::kCapabilityList, 1) != 0);
}

TEST_CASE("a BAR reads back its size mask and type after all ones are written", "[conformance][pci][6.2.5.1]")
{
    PciBoard<EchoDevice> b(echo_identity(4));
    const uint32_t bar4 = pci::kBar0 + 4 * PciTransport::kModernBar;
    CHECK(b.cfg(bar4) == (pci::kBarMemType64 | pci::kBarMemPrefetch));
    b.set_cfg(bar4, 4, 0xffffffff);
    b.set_cfg(bar4 + 4, 4, 0xffffffff);
    // 16 KiB, 64-bit, prefetchable: the modern BAR of QEMU's virtio_pci_realize().
    CHECK(b.cfg(bar4) == (0xffffc000 | pci::kBarMemType64 | pci::kBarMemPrefetch));
    CHECK(b.cfg(bar4 + 4) == 0xffffffff);
    const uint32_t bar1 = pci::kBar0 + 4 * PciTransport::kMsixBar;
    b.set_cfg(bar1, 4, 0xffffffff);
    CHECK(b.cfg(bar1) == 0xfffff000); // 4 KiB, 32-bit: QEMU's msix_init_exclusive_bar()
    b.set_cfg(pci::kBar0, 4, 0xffffffff);
    CHECK(b.cfg(pci::kBar0) == 0); // no BAR 0
}

TEST_CASE("a function without MSI-X has no BAR 1", "[conformance][pci]")
{
    PciBoard<EchoDevice> b(echo_identity());
    const uint32_t bar1 = pci::kBar0 + 4 * PciTransport::kMsixBar;
    b.set_cfg(bar1, 4, 0xffffffff);
    CHECK(b.cfg(bar1) == 0);
    CHECK(b.transport.bar(PciTransport::kMsixBar) == nullptr);
}

TEST_CASE("a BAR is decoded where the driver placed it while memory decoding is on", "[conformance][pci][6.2.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    const uint32_t bar4 = pci::kBar0 + 4 * PciTransport::kModernBar;
    b.set_cfg(bar4, 4, 0xfe004000);
    b.set_cfg(bar4 + 4, 4, 0x80);
    CHECK_FALSE(b.transport.bar_address(PciTransport::kModernBar));
    b.enable();
    CHECK(b.transport.bar_address(PciTransport::kModernBar) == 0x80'fe004000u);
    CHECK(b.transport.bar_size(PciTransport::kModernBar) == PciTransport::kModernBarSize);
}

TEST_CASE("a BAR answers nothing while memory decoding is off: reads are all ones, writes are dropped", "[conformance][pci][6.2.2]")
{
    PciBoard<EchoDevice> b(echo_identity());
    CHECK(b.common(pci::kNumQueues, 2) == 0xffff);
    b.set_status(virtio::status::kAcknowledge);
    CHECK(b.device.status() == 0);
    b.enable();
    CHECK(b.common(pci::kNumQueues, 2) == 1);
}

TEST_CASE("configuration accesses that are not 1, 2 or 4 aligned bytes below 256 read all ones and change nothing", "[conformance][pci]")
{
    PciBoard<EchoDevice> b(echo_identity());
    CHECK(b.cfg(pci::kVendorId + 1, 2) == 0xffff);
    CHECK(b.cfg(pci::kCommand + 2, 4) == 0xffffffff);
    CHECK(b.cfg(0x100, 4) == 0xffffffff); // no extended configuration space on conventional PCI
    CHECK(b.cfg(pci::kVendorId, 8) == 0xffffffff);
    b.set_cfg(pci::kCommand + 1, 2, 0xffff);
    b.set_cfg(pci::kCommand, 3, 0xffff);
    CHECK(b.cfg(pci::kCommand, 2) == 0);
}

TEST_CASE("the virtio capabilities sit where QEMU puts them and name QEMU's structures in the modern BAR", "[conformance][pci][4.1.4]")
{
    PciBoard<EchoDevice> b(echo_identity());
    struct Expected {
        uint8_t type, at, length;
        uint32_t offset;
    };
    const Expected caps[] = {{pci::kCapCommonCfg, 0x40, 16, PciTransport::kCommonCfgOffset},
                             {pci::kCapIsrCfg, 0x50, 16, PciTransport::kIsrOffset},
                             {pci::kCapDeviceCfg, 0x60, 16, PciTransport::kDeviceCfgOffset},
                             {pci::kCapNotifyCfg, 0x70, 20, PciTransport::kNotifyOffset}};
    for (const Expected& e : caps) {
        CAPTURE(e.type);
        const uint8_t at = b.find_virtio_cap(e.type);
        CHECK(at == e.at);
        CHECK(b.cfg(at + pci::kCapLen, 1) == e.length);
        CHECK(b.cfg(at + pci::kCapBar, 1) == PciTransport::kModernBar);
        CHECK(b.cfg(at + pci::kCapOffset) == e.offset);
        CHECK(b.cfg(at + pci::kCapLength) == 0x1000);
    }
    CHECK(b.cfg(0x70 + pci::kCapNotifyOffMultiplier) == 4);
    CHECK(b.find_virtio_cap(pci::kCapPciCfg) == 0x84);
    CHECK(b.cfg(pci::kCapabilityList, 1) == 0x84); // the last added heads the list
}

TEST_CASE("MSI-X heads the capability list, its table and PBA in BAR 1", "[conformance][pci][6.8.2]")
{
    PciBoard<EchoDevice> b(echo_identity(3));
    const uint8_t at = static_cast<uint8_t>(b.cfg(pci::kCapabilityList, 1));
    CHECK(at == 0x98);
    CHECK(b.cfg(at, 1) == pci::kCapIdMsix);
    CHECK(b.cfg(at + pci::kMsixFlags, 2) == 2); // table size - 1
    CHECK(b.cfg(at + pci::kMsixTable) == (0 | PciTransport::kMsixBar));
    CHECK(b.cfg(at + pci::kMsixPba) == (0x800 | PciTransport::kMsixBar));
    CHECK(b.cfg(at + 1, 1) == 0x84);
}

TEST_CASE("a PCI reset returns configuration space and the device to their power-on state", "[conformance][pci]")
{
    PciBoard<EchoDevice> b(echo_identity(2));
    b.bring_up();
    b.set_cfg(pci::kBar0 + 4 * PciTransport::kModernBar, 4, 0xfe000000);
    b.transport.reset();
    CHECK(b.cfg(pci::kCommand, 2) == 0);
    CHECK(b.cfg(pci::kBar0 + 4 * PciTransport::kModernBar) == (pci::kBarMemType64 | pci::kBarMemPrefetch));
    CHECK(b.device.status() == 0);
    CHECK(b.cfg(0x98 + pci::kMsixFlags, 2) == 1);
}
