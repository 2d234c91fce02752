// The PCI tree as Linux's bus scan finds it, in firmware's order, into the GuestSpec.
#include "system/boot/libvirt_mapper.h"

#include <fmt/format.h>

namespace viommu::system::boot::domain_map {

std::vector<std::string> Mapper::subtree_labels(int item) const
{
    std::vector<std::string> out{items_[static_cast<size_t>(item)].fn.source};
    for (size_t i = 0; i < items_.size(); ++i)
        if (items_[i].parent == item)
            for (std::string& s : subtree_labels(static_cast<int>(i)))
                out.push_back(std::move(s));
    return out;
}

// Depth-first in (slot, function) order below `parent` (-1: the root bus), parents before children, the
// order firmware enumerates in; applies what Linux's bus scan does not see.
void Mapper::visit(int parent, std::vector<int>& order, std::vector<int>& out_index)
{
    std::vector<int> on_bus;
    for (size_t i = 0; i < items_.size(); ++i)
        if (items_[i].parent == parent)
            on_bus.push_back(static_cast<int>(i));
    const auto devfn = [&](int i) {
        const PciAddr& a = *items_[static_cast<size_t>(i)].addr;
        return a.slot << 3 | a.function;
    };
    std::sort(on_bus.begin(), on_bus.end(), [&](int a, int b) { return devfn(a) < devfn(b); });
    const Kind parent_kind = parent < 0 ? Kind::kHostBridge : items_[static_cast<size_t>(parent)].fn.pci.kind;
    const bool below_port = parent_kind == Kind::kRootPort || parent_kind == Kind::kSwitchDownstream;

    for (int i : on_bus) {
        Item& item = items_[static_cast<size_t>(i)];
        const PciAddr& a = *item.addr;
        std::string unseen;
        if (below_port && a.slot != 0) {
            unseen = "below a PCI Express port Linux scans device 0 only (drivers/pci/probe.c only_one_child())";
        } else if (a.function != 0) {
            // drivers/pci/probe.c pci_scan_slot(): functions other than 0 are scanned only when function 0
            // exists and is multifunction (QEMU refuses the rest: "single function device can't be
            // populated in function").
            const auto fn0 = std::find_if(on_bus.begin(), on_bus.end(), [&](int j) {
                const PciAddr& b = *items_[static_cast<size_t>(j)].addr;
                return b.slot == a.slot && b.function == 0;
            });
            if (fn0 == on_bus.end() || !items_[static_cast<size_t>(*fn0)].addr->multifunction)
                unseen = fmt::format("function 0 of its slot is {}, so Linux does not scan function {}",
                                     fn0 == on_bus.end() ? "absent" : "not multifunction='on'", a.function);
        }
        if (!unseen.empty()) {
            warn(fmt::format("the guest would not see {}: {}", fmt::join(subtree_labels(i), ", "), unseen));
            continue;
        }
        // Linux sets multifunction on every function other than 0 it finds (pci_scan_slot()).
        item.fn.pci.slot = static_cast<uint8_t>(a.slot);
        item.fn.pci.function = static_cast<uint8_t>(a.function);
        item.fn.pci.multifunction = a.multifunction || a.function != 0;
        if (!guest::pci::is_bridge(item.fn.pci.kind) && item.fn.pci.kind != Kind::kHostBridge) {
            // Below a PCI Express port (or switch) a function is a PCIe endpoint. On the root bus of q35/virt
            // QEMU makes virtio devices conventional (virtio_pci_realize(): pcie_port only off the root bus)
            // and other PCIe devices root-complex integrated endpoints; both group alike there, so both are
            // kEndpoint, as are functions behind PCI bridges (a conventional bus).
            const bool pcie_bus = below_port || parent_kind == Kind::kSwitchUpstream;
            item.fn.pci.kind = pcie_bus ? Kind::kPcieEndpoint : Kind::kEndpoint;
        }
        if (parent_kind == Kind::kSwitchUpstream && item.fn.pci.kind != Kind::kSwitchDownstream)
            warn(fmt::format("{} sits on a pcie-switch-upstream-port, where libvirt's QEMU driver plugs only "
                             "pcie-switch-downstream-ports",
                             item.fn.source));
        if (item.fn.pci.kind == Kind::kSwitchDownstream && parent_kind != Kind::kSwitchUpstream)
            warn(fmt::format("{} is not on a pcie-switch-upstream-port, the only place libvirt's QEMU driver plugs one",
                             item.fn.source));
        if (item.fn.pci.kind == Kind::kRootPort && parent >= 0)
            warn(fmt::format("{} is not on the root bus, the only place libvirt's QEMU driver plugs a pcie-root-port",
                             item.fn.source));
        out_index[static_cast<size_t>(i)] = static_cast<int>(order.size());
        order.push_back(i);
        if (guest::pci::is_bridge(item.fn.pci.kind))
            visit(i, order, out_index);
    }
}

void Mapper::build_tree()
{
    std::vector<int> order;
    std::vector<int> out_index(items_.size(), -1);
    visit(-1, order, out_index);
    for (const auto& [bus, what] : dropped_buses_) {
        std::vector<std::string> behind;
        for (const std::string& top : dropped_behind_[bus])
            behind.push_back(top);
        // What sits behind the dropped bus's devices went with them.
        for (size_t i = 0; i < items_.size(); ++i)
            if (items_[i].parent == -2 && static_cast<int>(items_[i].addr->bus) == bus && guest::pci::is_bridge(items_[i].fn.pci.kind))
                for (const std::string& s : subtree_labels(static_cast<int>(i)))
                    if (s != items_[i].fn.source)
                        behind.push_back(s);
        if (behind.empty())
            warn(what);
        else
            warn(fmt::format("{}; left out with it: {}", what, fmt::join(behind, ", ")));
    }
    for (int i : order) {
        Item& item = items_[static_cast<size_t>(i)];
        item.fn.parent = item.parent < 0 ? -1 : out_index[static_cast<size_t>(item.parent)];
        spec_.functions.push_back(std::move(item.fn));
    }
    if (iommu_item_ >= 0) {
        spec_.iommu.function = out_index[static_cast<size_t>(iommu_item_)];
        if (spec_.iommu.function < 0)
            spec_.iommu.present = false; // the guest would not see it: warned above
    }
}

} // namespace viommu::system::boot::domain_map
