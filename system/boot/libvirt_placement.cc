// Where each PCI function sits: the machine's built-in functions, a slot for those without an
// <address>, and the controller (Item) each one plugs into.
#include "system/boot/libvirt_mapper.h"

#include <set>
#include <tuple>

#include <fmt/format.h>

namespace viommu::system::boot::domain_map {

void Mapper::add_builtins(bool acpi)
{
    const std::string source = fmt::format("machine {} (built in)",
                                           machine_ == MachineType::kQ35 ? "q35" : machine_ == MachineType::kPc ? "pc" : "virt");
    const auto add = [&](std::string label, Kind kind, Role role, unsigned slot, unsigned function, bool multi,
                         std::string driver) {
        Item item;
        item.fn.pci.label = std::move(label);
        item.fn.pci.kind = kind;
        item.fn.role = role;
        item.fn.guest_driver = std::move(driver);
        item.fn.source = source;
        item.addr = PciAddr{kRootBus, slot, function, multi};
        items_.push_back(std::move(item));
    };
    switch (machine_) {
    case MachineType::kQ35:
        // hw/i386/pc_q35.c: the MCH host bridge at 00:00.0; ICH9's LPC (multifunction), AHCI and SMBus at
        // 00:1f.0/.2/.3, which a Linux 6.12 guest on QEMU 7.2 lists (research/qemu-guest REPORT.md §2).
        add("mch", Kind::kHostBridge, Role::kHostBridge, 0, 0, false, "");
        add("ICH9-LPC", Kind::kEndpoint, Role::kEmulated, 0x1f, 0, true, "lpc_ich");
        add("ich9-ahci", Kind::kEndpoint, Role::kEmulated, 0x1f, 2, false, "ahci");
        add("ICH9-SMB", Kind::kEndpoint, Role::kEmulated, 0x1f, 3, false, "i801_smbus");
        break;
    case MachineType::kPc:
        // hw/i386/pc_piix.c: i440FX at 00:00.0; PIIX3 (ISA bridge, multifunction) at 00:01.0 with its IDE
        // at 01.1, and PIIX4 power management / SMBus at 01.3 only with ACPI (libvirt turns ACPI off
        // without <features><acpi/>).
        add("i440FX", Kind::kHostBridge, Role::kHostBridge, 0, 0, false, "");
        add("PIIX3", Kind::kEndpoint, Role::kEmulated, 1, 0, true, "");
        add("piix3-ide", Kind::kEndpoint, Role::kEmulated, 1, 1, false, "ata_piix");
        if (acpi)
            add("PIIX4_PM", Kind::kEndpoint, Role::kEmulated, 1, 3, false, "piix4_smbus");
        break;
    case MachineType::kVirt:
        // hw/pci-host/gpex.c: the GPEX root device (1b36:0008) at 00:00.0.
        add("gpex-root", Kind::kHostBridge, Role::kHostBridge, 0, 0, false, "");
        break;
    }
}

std::optional<DomainError> Mapper::place_unaddressed()
{
    std::set<std::pair<unsigned, unsigned>> used_slots; // (bus, slot)
    std::map<std::tuple<unsigned, unsigned, unsigned>, int> at;
    for (size_t i = 0; i < items_.size(); ++i) {
        const std::optional<PciAddr>& a = items_[i].addr;
        if (!a)
            continue;
        const auto key = std::make_tuple(a->bus, a->slot, a->function);
        if (const auto it = at.find(key); it != at.end())
            return unsupported(fmt::format("{} and {} both sit at slot {:#04x} function {} of the bus of PCI controller "
                                           "index {}; QEMU refuses a second device at one address",
                                           items_[static_cast<size_t>(it->second)].fn.source, items_[i].fn.source,
                                           a->slot, a->function, a->bus));
        at[key] = static_cast<int>(i);
        used_slots.insert({a->bus, a->slot});
    }
    std::vector<std::string> placed;
    for (Item& item : items_) {
        if (item.addr)
            continue;
        unsigned slot = 1;
        while (slot < 32 && used_slots.count({kRootBus, slot}))
            ++slot;
        if (slot == 32)
            return unsupported(fmt::format("{} has no PCI address and the root bus has no free slot left", item.fn.source));
        used_slots.insert({kRootBus, slot});
        item.addr = PciAddr{kRootBus, slot, 0, false};
        placed.push_back(fmt::format("{} ({}) at {}", item.fn.source, item.fn.pci.label,
                                     PciAddress(0, kRootBus, static_cast<uint8_t>(slot << 3)).to_short_string()));
    }
    if (!placed.empty())
        warn(fmt::format("libvirt's test driver assigns no PCI addresses, so these devices without one sit at the first "
                         "free slot of the root bus, where QEMU puts a -device without addr= (libvirt's QEMU driver "
                         "would plug PCI Express devices into new pcie-root-ports instead): {}",
                         fmt::join(placed, ", ")));
    return std::nullopt;
}

std::optional<DomainError> Mapper::resolve_parents()
{
    for (Item& item : items_) {
        const int bus = static_cast<int>(item.addr->bus);
        if (bus == kRootBus) {
            item.parent = -1;
        } else if (const auto it = bridge_of_bus_.find(bus); it != bridge_of_bus_.end()) {
            item.parent = it->second;
        } else if (dropped_buses_.count(bus)) {
            item.parent = -2; // behind something left out: reported with it
            dropped_behind_[bus].push_back(item.fn.source);
        } else {
            return unsupported(fmt::format("{} is on the bus of PCI controller index {}, but the domain has no PCI "
                                           "controller with that index (an address's bus='N' names a controller's "
                                           "index, libvirt's docs/pci-addresses.rst)",
                                           item.fn.source, bus));
        }
    }
    // A chain of controllers that never reaches the root bus is a loop (each plugs into the next's bus).
    for (size_t i = 0; i < items_.size(); ++i) {
        int at = static_cast<int>(i);
        size_t steps = 0;
        while (at >= 0 && steps++ <= items_.size())
            at = items_[static_cast<size_t>(at)].parent;
        if (at >= 0)
            return unsupported(fmt::format("{} sits behind itself: its PCI controllers plug into each other's buses in a "
                                           "loop",
                                           items_[i].fn.source));
    }
    return std::nullopt;
}

} // namespace viommu::system::boot::domain_map
