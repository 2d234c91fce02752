// Where a q35 machine puts guest RAM and where a PCI BAR may go, for the RAM sizes QemuProcess accepts
// (all of RAM below 4 GiB).
//
// RAM: pc_q35_init() (hw/i386/pc_q35.c, QEMU v7.2.0) keeps RAM below 4 GiB whole when it is smaller than
// 0xb0000000 bytes (lowmem; above it, RAM splits at 2 GiB), and pc_memory_init() (hw/i386/pc.c) maps it
// at guest-physical 0 as the "ram-below-4g" alias. Two holes are not RAM to the CPU or to DMA, although
// the RAM file holds bytes there: 0xa0000-0xbffff is the legacy VGA window and SMRAM, and 0xc0000-0xfffff
// is decoded through the PAM registers, which at reset send accesses to the PCI side and the BIOS ROM
// (mch_init(), hw/pci-host/q35.c). GuestMemory therefore covers [0, 0xa0000) and [1 MiB, RAM end).
//
// PCI memory: the PCI address space sits under all of system memory at priority -1
// (pc_pci_as_mapping_init(), hw/i386/pc.c), so a BAR decodes wherever neither RAM nor a platform device
// is. SeaBIOS puts q35's MMCONFIG at 0xb0000000 (256 MiB) and 32-bit BARs from 0xc0000000 up to the
// I/O APIC at 0xfec00000 (mch_mem_addr_setup(), src/fw/pciinit.c); with the CPU stopped before SeaBIOS
// runs (-S), nothing is assigned and BARs are placed in that same window here.
#pragma once

#include <cstdint>

namespace viommu::system::qemu::q35 {

inline constexpr uint64_t kLowRamLimit = 0xb0000000;       // RAM below this stays whole below 4 GiB
inline constexpr uint64_t kLegacyHoleStart = 0xa0000;      // VGA window, SMRAM, then PAM-decoded ROM
inline constexpr uint64_t kLegacyHoleEnd = 0x100000;
inline constexpr uint64_t kPciMemoryWindowBase = 0xc0000000;
inline constexpr uint64_t kPciMemoryWindowEnd = 0xfec00000; // IOAPIC_DEFAULT_ADDRESS

} // namespace viommu::system::qemu::q35
