#include "guest-model/pci/topology.h"

#include <algorithm>

#include "base/pci_address.h"

namespace viommu::guest::pci {

bool is_bridge(Kind kind)
{
    return kind == Kind::kRootPort || kind == Kind::kPcieToPciBridge || kind == Kind::kPciBridge ||
           kind == Kind::kSwitchUpstream || kind == Kind::kSwitchDownstream;
}

bool Function::is_pcie() const
{
    switch (kind) {
    case Kind::kPcieEndpoint:
    case Kind::kRootPort:
    case Kind::kPcieToPciBridge:
    case Kind::kSwitchUpstream:
    case Kind::kSwitchDownstream: return true;
    case Kind::kHostBridge:
    case Kind::kEndpoint:
    case Kind::kPciBridge: return false;
    }
    return false;
}

std::string Function::bdf() const
{
    return PciAddress(0, bus, devfn()).to_string();
}

Function* Topology::add(FunctionSpec spec, Function* parent)
{
    functions_.push_back(std::make_unique<Function>(std::move(spec)));
    Function* added = functions_.back().get();
    added->parent = parent;
    if (parent)
        parent->children.push_back(added);
    return added;
}

void Topology::remove(Function* f)
{
    if (f->parent)
        std::erase(f->parent->children, f);
    std::erase_if(functions_, [f](const std::unique_ptr<Function>& p) { return p.get() == f; });
}

namespace {

void number(std::vector<Function*> on_bus, uint8_t bus, unsigned& counter)
{
    std::sort(on_bus.begin(), on_bus.end(), [](const Function* a, const Function* b) { return a->devfn() < b->devfn(); });
    for (Function* f : on_bus)
        f->bus = bus;
    for (Function* f : on_bus) {
        if (!is_bridge(f->kind))
            continue;
        f->secondary = static_cast<uint8_t>(++counter);
        number(f->children, f->secondary, counter);
        f->subordinate = static_cast<uint8_t>(counter);
    }
}

} // namespace

void Topology::assign_bus_numbers()
{
    std::vector<Function*> root;
    for (const auto& f : functions_)
        if (!f->parent)
            root.push_back(f.get());
    unsigned counter = 0;
    number(root, 0, counter);
}

Function* Topology::find(uint8_t bus, uint8_t devfn) const
{
    for (const auto& f : functions_)
        if (f->bus == bus && f->devfn() == devfn)
            return f.get();
    return nullptr;
}

std::vector<uint16_t> linux_dma_aliases(const Function& f)
{
    std::vector<uint16_t> ids{f.requester_id()};
    for (const Function* bridge = f.parent; bridge; bridge = bridge->parent) {
        switch (bridge->kind) {
        case Kind::kRootPort:
        case Kind::kSwitchUpstream:
        case Kind::kSwitchDownstream: continue; // PCIe below: no alias
        case Kind::kPcieToPciBridge:
            // "PCIe-to-PCI/X bridges alias transactions from downstream devices using the subordinate bus
            // number" (PCIe-to-PCI bridge spec 1.0 §2.3).
            ids.push_back(static_cast<uint16_t>(bridge->secondary << 8));
            continue;
        case Kind::kPciBridge: ids.push_back(bridge->requester_id()); continue;
        case Kind::kHostBridge:
        case Kind::kEndpoint:
        case Kind::kPcieEndpoint: continue; // not bridges
        }
    }
    return ids;
}

const Function& qemu_alias_owner(const Function& f)
{
    // Walk up from the function's bus; at each conventional bus the alias moves to its bridge, so the
    // upstream-most conventional bus decides.
    const Function* owner = &f;
    for (const Function* bridge = f.parent; bridge; bridge = bridge->parent)
        if (bridge->kind == Kind::kPcieToPciBridge || bridge->kind == Kind::kPciBridge)
            owner = bridge;
    return *owner;
}

uint16_t qemu_requester_id(const Function& f)
{
    const Function& owner = qemu_alias_owner(f);
    if (&owner == &f)
        return f.requester_id();
    if (owner.kind == Kind::kPcieToPciBridge)
        return static_cast<uint16_t>(owner.secondary << 8); // (secondary bus, devfn 0)
    return owner.requester_id();                             // the conventional bridge's own ID
}

} // namespace viommu::guest::pci
