// The virtio-pci modern transport, device side (virtio v1.2 §4.1), laid out as QEMU 7.2's virtio-pci
// lays out a modern-only function (hw/virtio/virtio-pci.c: virtio_pci_realize(),
// virtio_pci_device_plugged()):
//
//   configuration space  256 bytes (conventional PCI: QEMU gives a virtio-pci function the PCI Express
//                        capability and 4 KiB of extended space only behind a PCIe port, which this
//                        model does not place it in); vendor 0x1af4, device 0x1040 + virtio ID,
//                        revision 1, the class and subsystem of the device's PciFunctionIdentity,
//                        interrupt pin INTA. Capabilities, first to last in the list as QEMU adds
//                        them from 0x40 (each new one at the head): common 0x40, ISR 0x50, device
//                        0x60, notify 0x70, PCI configuration access 0x84, then MSI-X 0x98 when the
//                        function has vectors.
//   BAR 1                the MSI-X table (offset 0) and PBA (0x800): 32-bit memory, 4 KiB, only
//                        with MSI-X (QEMU's msix_init_exclusive_bar()).
//   BAR 4 (+5)           64-bit prefetchable memory, 16 KiB: common configuration at 0x0, ISR at
//                        0x1000, device configuration at 0x2000, notifications at 0x3000 (queue q
//                        at 0x3000 + 4q: queue_notify_off = q, notify_off_multiplier = 4), each
//                        structure 0x1000 long.
//
// How a board wires it: configuration cycles go to config_read()/config_write() (the host bridge's
// ECAM or 0xcf8/0xcfc decoding), and memory cycles that fall in BAR i, at bar_address(i) for
// bar_size(i) bytes, go to bar(i) with the offset from the BAR's base. Interrupts leave through the
// IrqLine (INTx, level) while MSI-X is disabled, and as memory writes into the MsiSink while it is
// enabled. Queue notifications are processed on the executor, after the write that made them.
//
// Guest mistakes (a malformed access, a write to a read-only field, ...) get the answer of the spec or,
// where it leaves it open, QEMU's; they are logged through DeviceBase::log_guest_error() and the
// virtio_pci_guest_error trace point, and never reach beyond the device.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "base/bus.h"
#include "virtio/device_base.h"
#include "virtio/msix.h"
#include "virtio/notify_poster.h"
#include "virtio/pci_common_cfg.h"
#include "virtio/pci_config_space.h"

namespace viommu::virtio {

// What a device type says of itself on PCI; the transport adds the rest.
struct PciFunctionIdentity {
    uint16_t device_id = 0;  // PCI Device ID: 0x1040 + the virtio device ID (§4.1.2)
    uint32_t class_code = 0; // base class << 16 | subclass << 8 | programming interface
    // QEMU's defaults for a function that names none (pci_set_default_subsystem_id()): Red Hat/Qumranet,
    // QEMU. §4.1.2.1: a non-transitional device's subsystem ID SHOULD be 0x40 or higher.
    uint16_t subsystem_vendor_id = 0x1af4;
    uint16_t subsystem_id = 0x1100;
    // MSI-X table size; 0: no MSI-X capability, INTx only.
    uint16_t msix_vectors = 0;
};

class PciTransport {
public:
    static constexpr unsigned kMsixBar = 1;
    static constexpr unsigned kModernBar = 4;
    static constexpr uint32_t kCommonCfgOffset = 0x0000;
    static constexpr uint32_t kIsrOffset = 0x1000;
    static constexpr uint32_t kDeviceCfgOffset = 0x2000;
    static constexpr uint32_t kNotifyOffset = 0x3000;
    static constexpr uint32_t kStructureSize = 0x1000;
    static constexpr uint32_t kNotifyOffMultiplier = 4;
    static constexpr uint64_t kModernBarSize = 0x4000;

    // Throws std::invalid_argument when the identity's device ID is not 0x1040 + the device's ID.
    PciTransport(DeviceBase& device, boost::asio::io_context::executor_type executor,
                 const PciFunctionIdentity& identity, IrqLine& intx, MsiSink& msi);
    PciTransport(const PciTransport&) = delete;
    PciTransport& operator=(const PciTransport&) = delete;
    ~PciTransport();

    // A configuration read or write of 1, 2 or 4 bytes, naturally aligned, below 256; anything else
    // reads all ones and changes nothing (no function answers it, as after a master abort).
    uint32_t config_read(uint32_t offset, unsigned size);
    void config_write(uint32_t offset, unsigned size, uint32_t value);

    // BAR i's window, offsets from its base; nullptr when the function has no BAR i. While memory
    // decoding is off (the command register), a BAR reads all ones and ignores writes.
    MmioRegion* bar(unsigned index);
    // Where the driver placed BAR i; nullopt when there is no BAR i or memory decoding is off.
    std::optional<uint64_t> bar_address(unsigned index) const;
    uint64_t bar_size(unsigned index) const { return config_.bar_size(index); }

    // PCI reset (power-on, or a bus reset): configuration space, MSI-X and the device return to their
    // initial state.
    void reset();

    DeviceBase& device() { return device_; }
    // What configuration space holds, without the side effects of a configuration read.
    const PciConfigSpace& config_space() const { return config_; }
    const MsixTable* msix() const { return msix_ ? &*msix_ : nullptr; }
    bool intx_level() const { return intx_level_; }

private:
    class Bar final : public MmioRegion {
    public:
        Bar(PciTransport& transport, unsigned index) : transport_(transport), index_(index) {}
        uint64_t read(uint64_t offset, unsigned size) override;
        void write(uint64_t offset, unsigned size, uint64_t value) override;

    private:
        PciTransport& transport_;
        unsigned index_;
    };

    void build_config_space();
    uint64_t modern_read(uint64_t offset, unsigned size);
    void modern_write(uint64_t offset, unsigned size, uint64_t value);
    uint64_t msix_read(uint64_t offset, unsigned size);
    void msix_write(uint64_t offset, unsigned size, uint64_t value);
    void after_config_write(uint32_t offset, unsigned size);
    // The PCI configuration access capability (§4.1.4.9): a BAR access through pci_cfg_data.
    bool touches_cfg_data(uint32_t offset, unsigned size) const;
    std::optional<uint32_t> cfg_window_target(unsigned& length, bool writing);
    void on_interrupt(std::optional<unsigned> queue);
    void update_intx();
    bool bus_master() const { return config_.command() & pci::kCommandMaster; }
    void guest_error(std::string_view where, uint64_t offset, const char* what);

    DeviceBase& device_;
    NotifyPoster notifications_;
    PciFunctionIdentity identity_;
    IrqLine& intx_;
    PciConfigSpace config_;
    std::optional<MsixTable> msix_;
    PciCommonConfig common_;
    uint8_t cfg_cap_ = 0;
    uint8_t msix_cap_ = 0;
    bool intx_level_ = false;
    Bar msix_bar_{*this, kMsixBar};
    Bar modern_bar_{*this, kModernBar};
};

} // namespace viommu::virtio
