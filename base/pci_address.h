// A PCI function's address, domain (segment), bus, device (slot) and function, and its text form.
//
// Linux names a PCI device "DDDD:BB:SS.F": dev_set_name("%04x:%02x:%02x.%d") in pci_setup_device()
// (drivers/pci/probe.c), which is also how libvirt writes a host device's address. Linux's device
// specifiers (pci_dev_str_match_path(), drivers/pci/pci.c) also take "BB:SS.F" for domain 0, as lspci
// prints it without -D. Both forms parse here, with the field widths Linux prints and hex digits in either
// case; the guest model and the libvirt front end share this one reading and writing of addresses.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace viommu {

class PciAddress {
public:
    // The ranges of the fields: a bus number has 8 bits, and devfn 5 bits of slot and 3 of function
    // (PCI_DEVFN(), include/uapi/linux/pci.h); libvirt's schema gives a domain 16 bits (pciDomain).
    static constexpr uint64_t kDomains = 1u << 16;
    static constexpr uint64_t kBuses = 256;
    static constexpr uint64_t kSlots = 32;
    static constexpr uint64_t kFunctions = 8;

    // devfn packs slot and function as PCI_DEVFN() does (include/uapi/linux/pci.h), so every value is an
    // address.
    constexpr PciAddress(uint16_t domain, uint8_t bus, uint8_t devfn) : domain_(domain), bus_(bus), devfn_(devfn) {}

    // The address with these fields, or why not: each field checked against its range.
    static Expected<PciAddress, std::string> from_fields(uint64_t domain, uint64_t bus, uint64_t slot,
                                                         uint64_t function);
    // "DDDD:BB:SS.F" or "BB:SS.F" (domain 0), or why the text is neither.
    static Expected<PciAddress, std::string> parse(std::string_view text);

    constexpr uint16_t domain() const { return domain_; }
    constexpr uint8_t bus() const { return bus_; }
    constexpr uint8_t slot() const { return static_cast<uint8_t>(devfn_ >> 3); }    // PCI_SLOT()
    constexpr uint8_t function() const { return static_cast<uint8_t>(devfn_ & 7); } // PCI_FUNC()
    constexpr uint8_t devfn() const { return devfn_; }

    std::string to_string() const;       // "0000:3b:00.1"
    std::string to_short_string() const; // "3b:00.1", without the domain

    constexpr auto operator<=>(const PciAddress&) const = default;

private:
    uint16_t domain_;
    uint8_t bus_;
    uint8_t devfn_;
};

} // namespace viommu
