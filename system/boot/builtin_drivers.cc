#include "system/boot/builtin_drivers.h"

namespace viommu::system::boot {

namespace {

struct PciDriverSymbol {
    std::string_view driver; // the name it registers under (what lspci -k shows)
    std::string_view config; // the Kconfig symbol that builds it
};

// In link order: drivers/mfd/lpc_ich.c, drivers/ata/ahci.c, drivers/net/ethernet/intel/{e1000,e1000e}
// (e1000/ before e1000e/ in that Makefile), drivers/i2c/busses/i2c-i801.c. Each registers with
// module_init() or module_pci_driver(), device_initcall when built in.
constexpr PciDriverSymbol kSymbols[] = {
    {"lpc_ich", "CONFIG_LPC_ICH"}, {"ahci", "CONFIG_SATA_AHCI"},       {"e1000", "CONFIG_E1000"},
    {"e1000e", "CONFIG_E1000E"},   {"i801_smbus", "CONFIG_I2C_I801"},
};

} // namespace

DriverBuild pci_driver_build(const guest::profiles::Profile& profile, std::string_view driver)
{
    for (const PciDriverSymbol& s : kSymbols) {
        if (s.driver != driver)
            continue;
        const auto value = profile.config(s.config);
        if (value == "y")
            return DriverBuild::kBuiltin;
        if (value == "n")
            return DriverBuild::kAbsent;
    }
    return DriverBuild::kModule;
}

std::vector<std::string> builtin_pci_drivers(const guest::profiles::Profile& profile)
{
    std::vector<std::string> out;
    for (const PciDriverSymbol& s : kSymbols)
        if (profile.config(s.config) == "y")
            out.emplace_back(s.driver);
    return out;
}

} // namespace viommu::system::boot
