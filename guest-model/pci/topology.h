// A PCI hierarchy as firmware and the guest see it: functions, bridges and the bus numbers firmware
// gives them, with the two rules for a function's requester ID behind bridges:
//  - Linux's pci_for_each_dma_alias() (drivers/pci/search.c): the function's own ID first, then one
//    alias per conventional bus on the way up; what VIOT turns into the function's endpoint IDs.
//  - QEMU's pci_device_get_iommu_bus_devfn() (hw/pci/pci.c, the same rule since QEMU 4.2): the single,
//    upstream-most alias, which is the endpoint ID the virtio-iommu sees on the function's DMA.
// Both follow the PCIe-to-PCI bridge spec 1.0 §2.3: behind a PCIe-to-PCI bridge, requests carry
// (secondary bus, devfn 0); behind a conventional PCI bridge, the bridge's own ID.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace viommu::guest::pci {

enum class Kind : uint8_t {
    kHostBridge,       // 00:00.0 on q35: conventional, on the root bus
    kEndpoint,         // a conventional PCI function (any function on the root bus of QEMU's q35)
    kPcieEndpoint,     // a PCI Express endpoint, behind a root or downstream port
    kRootPort,         // PCI_EXP_TYPE_ROOT_PORT: PCIe below it, no alias; ACS in QEMU >= 4.0
    kPcieToPciBridge,  // PCI_EXP_TYPE_PCI_BRIDGE (QEMU pcie-pci-bridge): alias (secondary, 00.0)
    kPciBridge,        // conventional PCI-PCI bridge (QEMU pci-bridge, dmi-to-pci-bridge): own ID
    kSwitchUpstream,   // PCI_EXP_TYPE_UPSTREAM (QEMU x3130-upstream): PCIe, no alias, no ACS
    kSwitchDownstream, // PCI_EXP_TYPE_DOWNSTREAM (QEMU xio3130-downstream): PCIe, no alias, no ACS in QEMU
};

bool is_bridge(Kind kind);

// What describes a function before firmware numbers the buses.
struct FunctionSpec {
    std::string label;        // what it is (the libvirt device or controller), for reports
    Kind kind = Kind::kEndpoint;
    uint8_t slot = 0;         // device number on its bus
    uint8_t function = 0;
    bool multifunction = false;
    bool acs = false;         // an ACS capability the guest enables (QEMU root ports, unless disable-acs)
};

struct Function : FunctionSpec {
    explicit Function(FunctionSpec spec) : FunctionSpec(std::move(spec)) {}
    Function* parent = nullptr; // the bridge whose secondary bus this function sits on; nullptr: root bus
    std::vector<Function*> children; // for bridges: the functions on the secondary bus
    uint8_t bus = 0;          // assigned by firmware (assign_bus_numbers)
    uint8_t secondary = 0;    // for bridges, likewise
    uint8_t subordinate = 0;

    uint8_t devfn() const { return static_cast<uint8_t>(slot << 3 | function); }
    uint16_t requester_id() const { return static_cast<uint16_t>(bus << 8 | devfn()); }
    bool is_pcie() const;     // has a PCI Express capability
    std::string bdf() const;  // "0000:BB:SS.F", as Linux names a PCI device
};

class Topology {
public:
    // Adds a function on the root bus (parent nullptr) or on a bridge's secondary bus. The pointer
    // stays valid for the life of the topology.
    Function* add(FunctionSpec spec, Function* parent = nullptr);

    // A function without children leaves (hot-unplug); pointers to the others stay valid.
    void remove(Function* f);
    // Bus numbers as SeaBIOS's pci_bios_init_bus_rec() gives them: depth-first, bridges in slot and
    // function order, the root bus 0 (OVMF enumerates depth-first too).
    void assign_bus_numbers();

    const std::vector<std::unique_ptr<Function>>& functions() const { return functions_; }
    Function* find(uint8_t bus, uint8_t devfn) const;

private:
    std::vector<std::unique_ptr<Function>> functions_;
};

// pci_for_each_dma_alias(): the IDs a function's DMA may carry, own ID first.
std::vector<uint16_t> linux_dma_aliases(const Function& f);
// The ID QEMU's IOMMU sees for the function's DMA (its virtio-iommu endpoint ID).
uint16_t qemu_requester_id(const Function& f);
// The function that QEMU's alias belongs to (the function itself, a PCIe-to-PCI bridge or a PCI bridge).
const Function& qemu_alias_owner(const Function& f);

} // namespace viommu::guest::pci
