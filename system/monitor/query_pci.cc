#include "system/monitor/query_pci.h"

#include <algorithm>
#include <vector>

namespace viommu::system::monitor {

namespace {

using nlohmann::ordered_json;
using boot::Function;
using boot::Role;

struct Ids {
    unsigned vendor, device, pci_class;
};

// The IDs QEMU gives its own devices (virtio 1.0 modern IDs 0x1040 + device ID, Red Hat's bridges,
// q35's host bridge). An assigned or other emulated function shows its real IDs in QEMU, which the
// model does not know: 0xffff, as a read of an absent function returns.
Ids ids_of(const Function& f)
{
    switch (f.desc->role) {
    case Role::kVirtioNet: return {0x1af4, 0x1041, 0x0200};
    case Role::kVirtioBlk: return {0x1af4, 0x1042, 0x0100};
    case Role::kVirtioIommu: return {0x1af4, 0x1057, 0x0880};
    case Role::kHostBridge: return {0x8086, 0x29c0, 0x0600};
    case Role::kBridge:
        if (f.pci->kind == guest::pci::Kind::kRootPort && f.pci->label == "pcie-root-port")
            return {0x1b36, 0x000c, 0x0604};
        if (f.pci->kind == guest::pci::Kind::kPcieToPciBridge)
            return {0x1b36, 0x000e, 0x0604};
        return {0xffff, 0xffff, 0x0604};
    case Role::kVirtioOther:
    case Role::kHostdev:
    case Role::kEmulated: break;
    }
    return {0xffff, 0xffff, 0xffff};
}

ordered_json devices_on(const std::list<Function>& functions, const guest::pci::Function* bus_owner);

ordered_json device_info(const std::list<Function>& functions, const Function& f)
{
    const Ids ids = ids_of(f);
    ordered_json d;
    d["bus"] = f.pci->bus;
    d["slot"] = f.pci->slot;
    d["function"] = f.pci->function;
    d["class_info"] = {{"class", ids.pci_class}};
    d["id"] = {{"device", ids.device}, {"vendor", ids.vendor}};
    if (guest::pci::is_bridge(f.pci->kind)) {
        // Windows and BARs are not modelled: their ranges are 0.
        const ordered_json none = {{"base", 0}, {"limit", 0}};
        d["pci_bridge"] = {{"bus",
                            {{"number", f.pci->bus},
                             {"secondary", f.pci->secondary},
                             {"subordinate", f.pci->subordinate},
                             {"io_range", none},
                             {"memory_range", none},
                             {"prefetchable_range", none}}},
                           {"devices", devices_on(functions, f.pci)}};
    }
    d["regions"] = ordered_json::array();
    d["qdev_id"] = f.desc->qdev_id;
    return d;
}

ordered_json devices_on(const std::list<Function>& functions, const guest::pci::Function* bus_owner)
{
    std::vector<const Function*> on_bus;
    for (const Function& f : functions)
        if (f.pci->parent == bus_owner)
            on_bus.push_back(&f);
    std::sort(on_bus.begin(), on_bus.end(), [](const Function* a, const Function* b) { return a->pci->devfn() < b->pci->devfn(); });
    ordered_json out = ordered_json::array();
    for (const Function* f : on_bus)
        out.push_back(device_info(functions, *f));
    return out;
}

} // namespace

ordered_json query_pci(const boot::LiveGuest& guest)
{
    return ordered_json::array({{{"bus", 0}, {"devices", devices_on(guest.functions(), nullptr)}}});
}

} // namespace viommu::system::monitor
