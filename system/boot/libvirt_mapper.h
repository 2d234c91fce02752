// libvirt's normalised domain XML -> GuestSpec: machine, memory, kernel command line, viommu's metadata,
// and the PCI hierarchy built from the controllers and the devices' <address> elements.
//
// Rules (bridge-and-libvirt.md Part 2; docs/pci-addresses.rst of libvirt): a device's
// <address type='pci' bus='N'> names the PCI controller whose index is N, not a bus number; guest bus
// numbers are the firmware's (pci::Topology::assign_bus_numbers()). Index 0 is the root bus.
//
// One Mapper reads one document, in passes, one file each:
//   libvirt_mapper.cc    the passes in order (run()) and the checks that span them
//   libvirt_machine.cc   <os><type> (arch, machine), <features><gic>, <memory> and viommu's <metadata>
//   libvirt_unmodelled.cc warnings for settings that change the guest but are not modelled
//   libvirt_iommu_properties.cc  the virtio-iommu's properties: viommu's metadata, <qemu:commandline>
//                        and <qemu:override>
//   libvirt_host_iommu.cc a hostdev's host IOMMU constraints from viommu's metadata
//   libvirt_pci.cc       <devices>: PCI controllers, the <iommu>, the other devices and their <address>
//   libvirt_placement.cc the machine's built-in functions, devices without an address, each one's parent
//   libvirt_pci_tree.cc  the PCI tree as Linux's bus scan sees it
// Internal to system/boot.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/pci_address.h"
#include "system/boot/libvirt_devices.h"
#include "system/boot/libvirt_domain.h"
#include "system/boot/libxml.h"

namespace viommu::system::boot::domain_map {

using guest::pci::Kind;

constexpr int kRootBus = 0;

struct PciAddr {
    unsigned bus = 0; // the index of the controller it plugs into
    unsigned slot = 0;
    unsigned function = 0;
    bool multifunction = false;
};

// One PCI function found in the document (or built into the machine), before the tree is built.
struct Item {
    FunctionDesc fn;
    std::optional<PciAddr> addr;
    std::optional<PciAddress> host; // hostdevs: the host function, for the metadata
    int parent = -1;                // the Item this one sits behind, -1 the root bus (resolved later)
};

// A <viommu:host-iommu> entry: the host IOMMU of the hostdev at that host address.
struct HostIommuEntry {
    PciAddress address;
    hw::virtio_iommu::HostIommuConstraints constraints;
    bool hotplug = false; // hotplug='yes': a host function for device_add, not a hostdev of the domain
    bool used = false;
};

struct HostdevOverride {
    PciAddress address;
    std::string driver;
    bool used = false;
};

inline std::string trim(std::string s)
{
    const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
    s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), space));
    s.erase(std::find_if_not(s.rbegin(), s.rend(), space).base(), s.end());
    return s;
}

inline bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

class Mapper {
public:
    explicit Mapper(std::string_view source) : source_(source) {}

    // domain is libvirt's normalised document; written is the document as written, for what libvirt
    // validates but does not give back (the qemu: namespace).
    Expected<GuestSpec, DomainError> run(const xmlNode* domain, const xmlNode* written);

private:
    DomainError unsupported(std::string message) const
    {
        return {DomainError::Kind::kUnsupported, source_, std::move(message)};
    }
    void warn(std::string sentence) { spec_.warnings.push_back(std::move(sentence)); }

    std::optional<DomainError> read_machine(const xmlNode* domain);
    void read_memory(const xmlNode* domain);
    std::optional<DomainError> read_metadata(const xmlNode* domain);
    std::optional<DomainError> read_viommu_guest(const xmlNode* guest);
    // libvirt_host_iommu.cc: one <viommu:host-iommu>, read strictly (an error for anything amiss).
    std::optional<DomainError> read_host_iommu(const xmlNode* e);
    // libvirt_iommu_properties.cc: the virtio-iommu's QEMU properties (name as QEMU spells it, value as
    // written; origin names where, for messages): a value the device cannot take is an error.
    std::optional<DomainError> iommu_property(const std::string& origin, const std::string& name,
                                              const std::string& value);
    std::optional<DomainError> read_qemu_commandline(const xmlNode* domain);
    std::optional<DomainError> read_qemu_override(const xmlNode* domain);
    // libvirt_unmodelled.cc: a warning for each setting that changes the guest and is not modelled.
    void warn_unmodelled_settings(const xmlNode* domain);
    std::optional<DomainError> read_devices(const xmlNode* devices);
    std::optional<DomainError> pci_controller(const xmlNode* node, const std::string& what);
    std::optional<DomainError> iommu(const xmlNode* node, const std::string& what);
    // The <address> of a device that is a PCI function: false when it has an address of another type
    // (warned: it is then not on PCI).
    Expected<bool, DomainError> read_address(const xmlNode* node, const std::string& what, std::optional<PciAddr>& out);
    void add_builtins(bool acpi);
    std::optional<DomainError> place_unaddressed();
    std::optional<DomainError> resolve_parents();
    void build_tree();
    void visit(int parent, std::vector<int>& order, std::vector<int>& out_index);
    std::vector<std::string> subtree_labels(int item) const;

    std::string source_;
    GuestSpec spec_;
    MachineType machine_ = MachineType::kQ35;
    std::string domain_type_;
    std::vector<Item> items_;
    std::map<int, int> bridge_of_bus_;              // controller index -> Item providing it
    std::map<int, std::string> dropped_buses_;      // controller index -> the controller, for warnings
    std::map<int, std::vector<std::string>> dropped_behind_; // dropped bus -> what sat on it
    std::vector<HostdevOverride> overrides_;
    std::vector<HostIommuEntry> host_iommus_;
    int iommu_item_ = -1;
    std::vector<std::string> iommu_properties_from_; // where a virtio-iommu property was set
    bool root_declared_ = false;
};

// The guest of libvirt's normalised XML and the document as written (nullptr: the normalised one).
Expected<GuestSpec, DomainError> map_domain(std::string_view normalised, const xmlNode* written, std::string_view source);

} // namespace viommu::system::boot::domain_map
