// PCI functions of a QEMU machine, through qtest: configuration space by type 1 configuration cycles on
// ports 0xcf8/0xcfc, and BARs sized and assigned as firmware would, since a machine stopped with -S has
// not run SeaBIOS and no BAR has an address yet.
//
// Configuration mechanism #1 (PCI 3.0 §3.2.2.3.2): a write of 0x80000000 | bus << 16 | devfn << 8 |
// (offset & 0xfc) to 0xcf8 selects a dword; ports 0xcfc-0xcff then carry its bytes. q35's host bridge
// decodes it (hw/pci-host/q35.c, q35_host_realize(): "pci-conf-idx" at 0xcf8, "pci-conf-data" at 0xcfc).
//
// BAR sizing (PCI 3.0 §6.2.5.1): write all ones, read back, the size is the two's complement of the
// writable address bits; the original value is restored. A 64-bit memory BAR takes the next dword as its
// upper half. Memory BARs are placed, naturally aligned, in q35's 32-bit PCI window (q35_layout.h); I/O
// BARs are sized but not assigned (virtio-pci functions have none). Then memory decoding and bus mastering
// are enabled in the command register.
//
// A driver sees a function as a PciFunction (base/pci_function.h). Its accesses cannot fail by
// signature: when a qtest request fails, a read answers all ones (as a master abort would), a write is
// dropped, and the failure stays in QtestClient::failure() for the caller to check.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/expected.h"
#include "base/pci_address.h"
#include "base/pci_function.h"
#include "system/qemu/qtest_client.h"
#include "virtio/wire/pci_regs.h"

namespace viommu::system::qemu {

struct PciBar {
    uint64_t size = 0; // 0: no BAR at this index (or the upper half of a 64-bit BAR)
    bool io = false;
    bool is_64bit = false;
    bool prefetchable = false;
    std::optional<uint64_t> address; // where it was assigned; memory BARs only
};

class QtestPciFunction;

class QtestPciBus {
public:
    explicit QtestPciBus(QtestClient& qtest);

    // Configuration access of any function on domain 0 (the only one q35 has).
    Expected<uint32_t, std::string> config_read(PciAddress function, uint32_t offset, unsigned size);
    Expected<void, std::string> config_write(PciAddress function, uint32_t offset, unsigned size, uint32_t value);

    // Sizes function's BARs, assigns its memory BARs from the PCI window, enables memory decoding and
    // bus mastering; fails when no function answers at that address or the window is full.
    Expected<std::unique_ptr<QtestPciFunction>, std::string> enable(PciAddress function);

private:
    // Points 0xcf8 at the dword of function's configuration space that holds offset.
    Expected<void, std::string> select(PciAddress function, uint32_t offset);
    // A BAR register's value, and what it reads after all ones were written; the value is restored.
    struct Probe {
        uint32_t original;
        uint32_t probed;
    };
    Expected<Probe, std::string> probe_register(PciAddress function, uint32_t reg);
    Expected<PciBar, std::string> size_bar(PciAddress function, unsigned index, bool& upper_half_next);
    Expected<uint64_t, std::string> allocate(uint64_t size);

    QtestClient& qtest_;
    uint64_t next_free_;
};

class QtestPciFunction final : public PciFunction {
public:
    QtestPciFunction(QtestPciBus& bus, QtestClient& qtest, PciAddress address,
                     const std::array<PciBar, virtio::pci::kBarCount>& bars);

    uint32_t config_read(uint32_t offset, unsigned size) override;
    void config_write(uint32_t offset, unsigned size, uint32_t value) override;
    // QEMU's whole memory space: every access is a qtest memory access at that bus address.
    MmioRegion& memory_space() override { return memory_space_; }
    // Not raised from here yet: QEMU's INTx reaches us as qtest "IRQ raise" lines, which
    // QtestWaitForEvent collects; a driver waiting for used buffers re-reads the used ring.
    IrqWire& intx() override { return intx_; }
    // Not modelled: an MSI message is a write into the APIC window, which qtest does not show us (and
    // QEMU 7.2's virtio-iommu-pci has no MSI-X). A driver then falls back to INTx, as vp_find_vqs() does.
    std::optional<MsiMessage> alloc_msi(std::function<void()>) override { return std::nullopt; }
    void free_msi() override {}

    // BAR index's memory window, offsets from the BAR's base; nullptr when the function has no memory
    // BAR there or it is not assigned. For a 64-bit BAR, index is its lower half.
    MmioRegion* bar(unsigned index);

    PciAddress address() const { return address_; }
    const std::array<PciBar, virtio::pci::kBarCount>& bars() const { return bars_; }

private:
    // A BAR's window: an access is a qtest memory access at the BAR's address plus the offset; one
    // outside the BAR reads all ones and writes nothing.
    class Window final : public MmioRegion {
    public:
        Window(QtestClient& qtest, uint64_t base, uint64_t size) : qtest_(qtest), base_(base), size_(size) {}
        uint64_t read(uint64_t offset, unsigned size) override;
        void write(uint64_t offset, unsigned size, uint64_t value) override;

    private:
        bool inside(uint64_t offset, unsigned size) const;
        QtestClient& qtest_;
        uint64_t base_;
        uint64_t size_;
    };

    QtestPciBus& bus_;
    Window memory_space_;
    IrqWire intx_;
    PciAddress address_;
    std::array<PciBar, virtio::pci::kBarCount> bars_;
    std::array<std::unique_ptr<Window>, virtio::pci::kBarCount> windows_;
};

} // namespace viommu::system::qemu
