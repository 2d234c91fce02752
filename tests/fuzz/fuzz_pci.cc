// fuzz-pci: sequences of configuration space accesses and BAR accesses (the modern BAR 4 and the MSI-X
// BAR 1) to a virtio-iommu behind the virtio-pci transport, at any width and offset, with bytes
// written into guest RAM and the device's executor run in between (tests/fuzz/pci_scenario.h). Besides
// staying free of sanitizer reports (the device reaches guest RAM only through GuestMemory, whose
// every access is checked), the transport and the device must keep what virtio v1.2 §2.1, §4.1 and the
// PCI specification promise:
//   - vendor 0x1af4, device 0x1057, revision 1 and class 0xff0000 always read the same;
//   - a configuration access that is not 1, 2 or 4 aligned bytes below 256 reads all ones;
//   - status bits are never cleared but by a reset, which reads back 0 (§4.1.4.3.1); FEATURES_OK only
//     with VERSION_1 and offered features; DRIVER_OK without FEATURES_OK is NEEDS_RESET;
//   - INTx is high exactly while the ISR status is not 0, MSI-X is off and Interrupt Disable is clear;
//   - an MSI-X message leaves only while MSI-X is enabled and unmasked and the function may master the
//     bus, and carries the address and data of an unmasked table entry;
//   - num_queues reads 2, queue_size never more than the maximum; the configuration generation never
//     goes back.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "hw/virtio-iommu/device.h"
#include "hw/virtio-iommu/pci.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/transport_oracle.h"
#include "tests/fuzz/pci_scenario.h"
#include "virtio/pci_transport.h"
#include "virtio/wire/pci_regs.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace pci = viommu::virtio::pci;
namespace vstatus = viommu::virtio::status;
using virtio::PciTransport;

namespace {

// Vectors of the fuzzed function: MSI-X is there to be fuzzed, INTx is there while it is off.
constexpr uint16_t kVectors = 3;

// Checks each message against the table when it leaves.
class CheckedMsiSink final : public MsiSink {
public:
    void attach(const PciTransport& t) { transport_ = &t; }
    void write(uint64_t address, uint32_t data) override;

private:
    const PciTransport* transport_ = nullptr;
};

class Harness {
public:
    Harness()
        : mem_(make_transport_ram()), device_(mem_, hw::virtio_iommu::IommuConfig{}),
          transport_(device_, io_.get_executor(), hw::virtio_iommu::pci_identity(kVectors), intx_, msi_)
    {
        msi_.attach(transport_);
    }

    void apply(const PciOp& op)
    {
        const uint8_t status_before = device_.status();
        if (const auto* rd = std::get_if<ConfigRead>(&op)) {
            check_config_read(*rd, transport_.config_read(rd->offset, rd->width));
        } else if (const auto* wr = std::get_if<ConfigWrite>(&op)) {
            transport_.config_write(wr->offset, wr->width, wr->value);
        } else if (const auto* brd = std::get_if<BarRead>(&op)) {
            const uint64_t value = transport_.bar(brd->bar)->read(brd->offset, brd->width);
            if (brd->bar == PciTransport::kModernBar)
                check_modern_read(*brd, value);
        } else if (const auto* bwr = std::get_if<BarWrite>(&op)) {
            transport_.bar(bwr->bar)->write(bwr->offset, bwr->width, bwr->value);
        } else if (const auto* ram = std::get_if<RamWrite>(&op)) {
            (void)mem_.write(GuestAddr(kMmioRamBase + ram->offset), ram->bytes);
        } else {
            io_.poll();
            io_.restart();
        }
        check_state(status_before);
    }

private:
    void check_config_read(const ConfigRead& rd, uint32_t value)
    {
        if (rd.width > 4 || rd.offset % rd.width || rd.offset >= pci::kConfigSpaceSize) {
            const uint32_t ones = rd.width >= 4 ? 0xffffffff : (1u << (8 * rd.width)) - 1;
            if (value != ones)
                finding(fmt::format("a {}-byte configuration read at {:#x} returned {:#x}, not all ones", rd.width,
                                    rd.offset, value));
            return;
        }
        if (rd.width == 4 && rd.offset == pci::kVendorId && value != (0x1057u << 16 | 0x1af4))
            finding(fmt::format("vendor and device read {:#x}", value));
        if (rd.width == 4 && rd.offset == pci::kRevisionId && value != 0xff000001)
            finding(fmt::format("class and revision read {:#x}", value));
    }

    void check_modern_read(const BarRead& rd, uint64_t value)
    {
        const bool decoding = transport_.config_space().command() & pci::kCommandMemory;
        if (!decoding || rd.offset >= PciTransport::kStructureSize)
            return;
        if (rd.offset == pci::kNumQueues && rd.width == 2 && value != 2)
            finding(fmt::format("num_queues read {}", value));
        if (rd.offset == pci::kQueueSize && rd.width == 2 && value > hw::virtio_iommu::VirtioIommu::kQueueSize)
            finding(fmt::format("queue_size read {}", value));
        if (rd.offset == pci::kDeviceStatus && rd.width == 1 && value != device_.status())
            finding(fmt::format("device_status read {:#x}, the device holds {:#x}", value, device_.status()));
    }

    void check_state(uint8_t status_before)
    {
        const uint8_t s = device_.status();
        // Only a reset clears a bit, and a reset leaves 0 (§4.1.4.3.1).
        if (s != 0 && (status_before & s) != status_before)
            finding(fmt::format("status went from {:#x} to {:#x} without a reset", status_before, s));
        rules_.check(device_);
        const bool intx_disabled = transport_.config_space().command() & pci::kCommandIntxDisable;
        const bool expected = device_.interrupt_status() != 0 && !transport_.msix()->enabled() && !intx_disabled;
        if (intx_.level() != expected)
            finding(fmt::format("INTx {} with ISR {:#x}, MSI-X {}, Interrupt Disable {}", intx_.level(),
                                device_.interrupt_status(), transport_.msix()->enabled(), intx_disabled));
    }

    boost::asio::io_context io_;
    virtio::GuestMemory mem_;
    hw::virtio_iommu::VirtioIommu device_;
    IrqWire intx_;
    CheckedMsiSink msi_;
    PciTransport transport_;
    DeviceRules rules_;
};

void CheckedMsiSink::write(uint64_t address, uint32_t data)
{
    const virtio::MsixTable& table = *transport_->msix();
    if (!table.enabled() || table.function_masked())
        finding("an MSI-X message left while MSI-X was disabled or masked");
    if (!(transport_->config_space().command() & pci::kCommandMaster))
        finding("an MSI-X message left while the function may not master the bus");
    for (uint32_t v = 0; v < table.vectors(); ++v) {
        const uint32_t entry = v * pci::kMsixEntrySize;
        const uint64_t entry_address = *table.read32(entry + pci::kMsixEntryLowerAddr) |
                                       (uint64_t{*table.read32(entry + pci::kMsixEntryUpperAddr)} << 32);
        if (entry_address == address && *table.read32(entry + pci::kMsixEntryData) == data &&
            !(*table.read32(entry + pci::kMsixEntryVectorCtrl) & pci::kMsixEntryCtrlMaskBit))
            return;
    }
    finding(fmt::format("an MSI-X message {:#x} <- {:#x} that no unmasked table entry holds", address, data));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    Harness h;
    for (const PciOp& op : decode_pci_ops({data, size}))
        h.apply(op);
    return 0;
}
