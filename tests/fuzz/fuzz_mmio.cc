// fuzz-mmio: sequences of virtio-mmio register reads and writes to a virtio-iommu (status, features,
// queue setup, notify, interrupt acknowledge, queue reset, configuration space) at any width and offset,
// with bytes written into guest RAM and the device's executor run in between
// (tests/fuzz/mmio_scenario.h). Besides staying free of sanitizer reports, the transport and the device
// must keep what virtio v1.2 §2.1, §4.2.2 and viommu's transport policy promise:
//   - the identification registers always read magic, version 2, device 23, QEMU's vendor;
//   - a control register access that is not 32-bit and aligned reads 0 and changes nothing; beyond the
//     window reads are 0;
//   - Status, InterruptStatus, QueueReady, QueueNumMax and DeviceFeatures read what the device holds;
//     the configuration space reads the device's properties at any width, all ones outside it;
//   - status bits are never cleared but by a reset, which clears status, interrupts and QueueReady
//     (§4.2.2.1); FEATURES_OK only with VERSION_1 and offered features; DRIVER_OK without FEATURES_OK
//     is NEEDS_RESET; the interrupt line is high exactly while InterruptStatus is not 0; the
//     configuration generation never goes back.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_iommu.h>

#include "hw/virtio-iommu/device.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/transport_oracle.h"
#include "tests/fuzz/mmio_scenario.h"
#include "virtio/mmio_transport.h"
#include "virtio/wire/mmio_regs.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace mmio = viommu::virtio::mmio;
namespace vstatus = viommu::virtio::status;

namespace {

class Harness {
public:
    Harness() : mem_(make_transport_ram()), device_(mem_, hw::virtio_iommu::IommuConfig{}), transport_(device_, io_.get_executor(), irq_) {}

    void apply(const MmioOp& op)
    {
        const uint8_t status_before = device_.status();
        bool reset = false;
        if (const auto* rd = std::get_if<RegRead>(&op)) {
            check_read(*rd, transport_.read(rd->offset, rd->width));
        } else if (const auto* wr = std::get_if<RegWrite>(&op)) {
            const bool reg = wr->offset < mmio::kConfig && wr->width == 4 && wr->offset % 4 == 0;
            transport_.write(wr->offset, wr->width, wr->value);
            if (reg && wr->offset == mmio::kQueueSel)
                queue_sel_ = static_cast<uint32_t>(wr->value);
            if (reg && wr->offset == mmio::kDeviceFeaturesSel)
                features_sel_ = static_cast<uint32_t>(wr->value);
            // Status is a byte (§2.1): the register's upper bits are ignored, so 0x100 resets too (QEMU
            // writes value & 0xff).
            reset = reg && wr->offset == mmio::kStatus && static_cast<uint8_t>(wr->value) == 0;
            // A control register write that is not 32-bit and aligned must change nothing of the status.
            if (wr->offset < mmio::kConfig && !reg && device_.status() != status_before)
                finding(fmt::format("a {}-byte write at {:#x} changed the status", wr->width, wr->offset));
        } else if (const auto* ram = std::get_if<RamWrite>(&op)) {
            (void)mem_.write(GuestAddr(kMmioRamBase + ram->offset), ram->bytes);
        } else {
            io_.poll();
            io_.restart();
        }
        check_state(status_before, reset);
    }

private:
    void check_read(const RegRead& rd, uint64_t value)
    {
        const uint32_t off = rd.offset;
        if (off >= mmio::kWindowSize) {
            if (value != 0)
                finding(fmt::format("a read at {:#x}, outside the window, returned {:#x}", off, value));
            return;
        }
        if (off >= mmio::kConfig) {
            const uint64_t expected = config_value(off - mmio::kConfig, rd.width);
            if (value != expected)
                finding(fmt::format("config read of {} bytes at {:#x}: {:#x}, expected {:#x}", rd.width, off - mmio::kConfig,
                                    value, expected));
            return;
        }
        if (rd.width != 4 || off % 4) {
            if (value != 0)
                finding(fmt::format("a {}-byte register read at {:#x} returned {:#x}", rd.width, off, value));
            return;
        }
        const auto* slot = device_.queue_slot(queue_sel_);
        std::optional<uint64_t> expected;
        switch (off) {
        case mmio::kMagicValue: expected = mmio::kMagic; break;
        case mmio::kVersion: expected = mmio::kVersion2; break;
        case mmio::kDeviceId: expected = VIRTIO_ID_IOMMU; break;
        case mmio::kVendorId: expected = virtio::MmioTransport::kQemuVendorId; break;
        case mmio::kStatus: expected = device_.status(); break;
        case mmio::kInterruptStatus: expected = device_.interrupt_status(); break;
        case mmio::kQueueNumMax: expected = queue_sel_ < 2 ? hw::virtio_iommu::VirtioIommu::kQueueSize : 0; break;
        case mmio::kQueueReady: expected = slot && slot->ready ? 1 : 0; break;
        case mmio::kDeviceFeatures:
            expected = features_sel_ < 2 ? static_cast<uint32_t>(device_.device_features() >> (32 * features_sel_)) : 0;
            break;
        default: break;
        }
        if (expected && value != *expected)
            finding(fmt::format("register {:#x} read {:#x}, expected {:#x}", off, value, *expected));
        if (off == mmio::kInterruptStatus && (value & ~uint64_t{mmio::kIntVring | mmio::kIntConfig}))
            finding(fmt::format("InterruptStatus {:#x} has bits that name no event", value));
    }

    // The configuration space as the device's properties say it is (§5.13.4), little-endian; all ones
    // outside it or at an odd width.
    uint64_t config_value(uint32_t offset, unsigned width) const
    {
        virtio_iommu_config c{};
        const hw::virtio_iommu::IommuConfig& p = device_.config();
        c.page_size_mask = p.page_size_mask;
        c.input_range.start = p.input_start;
        c.input_range.end = p.input_end;
        c.domain_range.start = p.domain_start;
        c.domain_range.end = p.domain_end;
        c.probe_size = p.probe_size;
        c.bypass = device_.bypass_field();
        if (offset > sizeof c || width > sizeof c - offset)
            return width == 8 ? UINT64_MAX : (uint64_t{1} << (8 * width)) - 1;
        uint64_t v = 0;
        std::memcpy(&v, reinterpret_cast<const uint8_t*>(&c) + offset, width);
        return v;
    }

    void check_state(uint8_t status_before, bool reset)
    {
        const uint8_t s = device_.status();
        if (reset) {
            if (s != 0 || device_.interrupt_status() != 0 || device_.queue_slot(0)->ready || device_.queue_slot(1)->ready)
                finding("a reset left status, interrupts or QueueReady set (§4.2.2.1)");
        } else if ((status_before & s) != status_before) {
            finding(fmt::format("status went from {:#x} to {:#x} without a reset", status_before, s));
        }
        rules_.check(device_);
        if (irq_.level() != (device_.interrupt_status() != 0))
            finding(fmt::format("interrupt line {} with InterruptStatus {:#x}", irq_.level(), device_.interrupt_status()));
    }

    boost::asio::io_context io_;
    virtio::GuestMemory mem_;
    hw::virtio_iommu::VirtioIommu device_;
    IrqWire irq_;
    virtio::MmioTransport transport_;
    uint32_t queue_sel_ = 0;
    uint32_t features_sel_ = 0;
    DeviceRules rules_;
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    Harness h;
    for (const MmioOp& op : decode_mmio_ops({data, size}))
        h.apply(op);
    return 0;
}
