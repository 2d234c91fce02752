// Bus numbers, Linux's DMA aliases and QEMU's requester IDs, checked against a real Linux 6.12 guest on
// QEMU 7.2 (q35): the topology helper-run in /work/research/qemu-guest, whose lspci, fwspec IDs (kprobes
// on iommu_fwspec_add_ids) and QEMU translate traces these numbers come from.
#include <catch2/catch.hpp>

#include "guest-model/pci/topology.h"

using namespace viommu::guest::pci;

namespace {

struct ObservedQ35 {
    Topology t;
    Function* iommu = t.add({.label = "virtio-iommu", .kind = Kind::kEndpoint, .slot = 3});
    Function* br1 = t.add({.label = "pcie-pci-bridge", .kind = Kind::kPcieToPciBridge, .slot = 7});
    Function* e1000_a = t.add({.label = "e1000", .kind = Kind::kEndpoint, .slot = 1}, br1);
    Function* e1000_b = t.add({.label = "e1000", .kind = Kind::kEndpoint, .slot = 2}, br1);
    Function* rp1 = t.add({.label = "pcie-root-port", .kind = Kind::kRootPort, .slot = 8, .function = 0, .multifunction = false, .acs = true});
    Function* br2 = t.add({.label = "pcie-pci-bridge", .kind = Kind::kPcieToPciBridge, .slot = 0}, rp1);
    Function* e1000_c = t.add({.label = "e1000", .kind = Kind::kEndpoint, .slot = 1}, br2);
    Function* rp2 = t.add({.label = "pcie-root-port", .kind = Kind::kRootPort, .slot = 9, .function = 0, .multifunction = false, .acs = true});
    Function* e1000e = t.add({.label = "e1000e", .kind = Kind::kPcieEndpoint, .slot = 0}, rp2);
    Function* pb1 = t.add({.label = "pci-bridge", .kind = Kind::kPciBridge, .slot = 0xb});
    Function* e1000_d = t.add({.label = "e1000", .kind = Kind::kEndpoint, .slot = 1}, pb1);
    ObservedQ35() { t.assign_bus_numbers(); }
};

} // namespace

TEST_CASE("firmware numbers buses depth-first in slot order", "[unit][pci]")
{
    ObservedQ35 q;
    // lspci: 07.0-[01], 08.0-[02-03]----00.0-[03], 09.0-[04], 0b.0-[05]
    CHECK(q.br1->secondary == 1);
    CHECK((q.rp1->secondary == 2 && q.rp1->subordinate == 3));
    CHECK(q.br2->bdf() == "0000:02:00.0");
    CHECK(q.br2->secondary == 3);
    CHECK(q.rp2->secondary == 4);
    CHECK(q.pb1->secondary == 5);
    CHECK(q.e1000_c->bdf() == "0000:03:01.0");
    CHECK(q.e1000_d->bdf() == "0000:05:01.0");
}

TEST_CASE("Linux aliases a device behind a PCIe-to-PCI bridge to (secondary bus, 00.0), own ID first", "[unit][pci]")
{
    ObservedQ35 q;
    // fwspec_add_ids: 01:01.0 -> 0x108 then 0x100; 01:02.0 -> 0x110, 0x100; 03:01.0 -> 0x308, 0x300
    CHECK(linux_dma_aliases(*q.e1000_a) == std::vector<uint16_t>{0x108, 0x100});
    CHECK(linux_dma_aliases(*q.e1000_b) == std::vector<uint16_t>{0x110, 0x100});
    CHECK(linux_dma_aliases(*q.e1000_c) == std::vector<uint16_t>{0x308, 0x300});
}

TEST_CASE("Linux aliases a device behind a conventional PCI bridge to the bridge's own ID", "[unit][pci]")
{
    ObservedQ35 q;
    CHECK(linux_dma_aliases(*q.e1000_d) == std::vector<uint16_t>{0x508, 0x58}); // observed {0x508, 0x58}
}

TEST_CASE("a device behind a root port has only its own ID", "[unit][pci]")
{
    ObservedQ35 q;
    CHECK(linux_dma_aliases(*q.e1000e) == std::vector<uint16_t>{0x400});
    CHECK(qemu_requester_id(*q.e1000e) == 0x400);
}

TEST_CASE("QEMU sees one requester ID per bridge hierarchy", "[unit][pci]")
{
    ObservedQ35 q;
    // QEMU 7.2 created IOMMU regions only for (bus 1, 0), (bus 3, 0) and 00:0b.0 (translate rid=88).
    CHECK(qemu_requester_id(*q.e1000_a) == 0x100);
    CHECK(qemu_requester_id(*q.e1000_b) == 0x100);
    CHECK(qemu_requester_id(*q.e1000_c) == 0x300);
    CHECK(qemu_requester_id(*q.e1000_d) == 0x58);
    CHECK(&qemu_alias_owner(*q.e1000_a) == q.br1);
}

TEST_CASE("behind a PCI bridge behind a PCIe-to-PCI bridge the upstream alias wins", "[unit][pci]")
{
    Topology t;
    Function* rp = t.add({.label = "pcie-root-port", .kind = Kind::kRootPort, .slot = 2, .function = 0, .multifunction = false, .acs = true});
    Function* ppb = t.add({.label = "pcie-pci-bridge", .kind = Kind::kPcieToPciBridge, .slot = 0}, rp);
    Function* pb = t.add({.label = "pci-bridge", .kind = Kind::kPciBridge, .slot = 1}, ppb);
    Function* dev = t.add({.label = "e1000", .kind = Kind::kEndpoint, .slot = 3}, pb);
    t.assign_bus_numbers();
    CHECK(dev->bdf() == "0000:03:03.0");
    CHECK(linux_dma_aliases(*dev) == std::vector<uint16_t>{0x318, 0x208, 0x200});
    CHECK(qemu_requester_id(*dev) == 0x200);
}
