#include "system/qemu/qtest_pci.h"

#include <fmt/format.h>

#include "system/qemu/q35_layout.h"

namespace viommu::system::qemu {

namespace {

constexpr uint16_t kConfigAddressPort = 0xcf8;
constexpr uint16_t kConfigDataPort = 0xcfc;
constexpr uint32_t kConfigEnable = 0x80000000;
constexpr uint32_t kConfigSpaceSize = 256;

bool valid_config_access(uint32_t offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && offset % size == 0 && offset < kConfigSpaceSize;
}

uint32_t all_ones(unsigned size)
{
    return size >= 4 ? UINT32_MAX : (uint32_t{1} << (8 * size)) - 1;
}

} // namespace

Expected<void, std::string> QtestPciBus::select(PciAddress function, uint32_t offset)
{
    return qtest_.out(kConfigAddressPort, 4,
                      kConfigEnable | uint32_t{function.bus()} << 16 | uint32_t{function.devfn()} << 8 | (offset & 0xfc));
}

QtestPciBus::QtestPciBus(QtestClient& qtest) : qtest_(qtest), next_free_(q35::kPciMemoryWindowBase) {}

Expected<uint32_t, std::string> QtestPciBus::config_read(PciAddress function, uint32_t offset, unsigned size)
{
    if (function.domain() != 0 || !valid_config_access(offset, size))
        return unexpected(fmt::format("no configuration access of {} bytes at {:#x} of {}", size, offset,
                                      function.to_string()));
    if (auto selected = select(function, offset); !selected)
        return unexpected(selected.error());
    return qtest_.in(static_cast<uint16_t>(kConfigDataPort + (offset & 3)), size);
}

Expected<void, std::string> QtestPciBus::config_write(PciAddress function, uint32_t offset, unsigned size,
                                                      uint32_t value)
{
    if (function.domain() != 0 || !valid_config_access(offset, size) || value > all_ones(size))
        return unexpected(fmt::format("no configuration write of {:#x} ({} bytes) at {:#x} of {}", value, size,
                                      offset, function.to_string()));
    if (auto selected = select(function, offset); !selected)
        return unexpected(selected.error());
    return qtest_.out(static_cast<uint16_t>(kConfigDataPort + (offset & 3)), size, value);
}

Expected<QtestPciBus::Probe, std::string> QtestPciBus::probe_register(PciAddress function, uint32_t reg)
{
    auto original = config_read(function, reg, 4);
    if (!original)
        return unexpected(original.error());
    if (auto w = config_write(function, reg, 4, UINT32_MAX); !w)
        return unexpected(w.error());
    auto probed = config_read(function, reg, 4);
    if (!probed)
        return unexpected(probed.error());
    if (auto w = config_write(function, reg, 4, *original); !w)
        return unexpected(w.error());
    return Probe{*original, *probed};
}

Expected<PciBar, std::string> QtestPciBus::size_bar(PciAddress function, unsigned index, bool& upper_half_next)
{
    using namespace virtio::pci;
    const uint32_t reg = kBar0 + 4 * index;
    auto lower = probe_register(function, reg);
    if (!lower)
        return unexpected(lower.error());
    const auto [original, probed] = *lower;

    PciBar bar;
    if (original & kBarIo) {
        const uint32_t mask = probed & ~uint32_t{0x3};
        bar.io = true;
        bar.size = mask ? (~mask & 0xffff) + 1 : 0; // x86 port space is 16 bits
        return bar;
    }
    uint64_t mask = probed & ~uint32_t{0xf};
    if (mask == 0)
        return PciBar{}; // no writable address bit: no BAR here (PCI 3.0 §6.2.5.1)
    bar.prefetchable = original & kBarMemPrefetch;
    bar.is_64bit = (original & kBarMemTypeMask) == kBarMemType64;
    if (bar.is_64bit) {
        if (index + 1 >= kBarCount)
            return unexpected(fmt::format("{}: BAR {} is 64-bit but the last one", function.to_string(), index));
        const uint32_t upper_reg = reg + 4;
        auto upper = probe_register(function, upper_reg);
        if (!upper)
            return unexpected(upper.error());
        mask |= uint64_t{upper->probed} << 32;
        upper_half_next = true;
    } else {
        mask |= uint64_t{0xffffffff} << 32; // a 32-bit BAR's address bits above 31 read as zero
    }
    bar.size = ~mask + 1;
    if (bar.size == 0 || (bar.size & (bar.size - 1)) != 0)
        return unexpected(fmt::format("{}: BAR {} decodes a size of {:#x}, not a power of two",
                                      function.to_string(), index, bar.size));
    return bar;
}

Expected<uint64_t, std::string> QtestPciBus::allocate(uint64_t size)
{
    const uint64_t align = std::max<uint64_t>(size, 0x1000); // naturally aligned, at least a page apart
    const uint64_t base = (next_free_ + align - 1) & ~(align - 1);
    if (base < next_free_ || base > q35::kPciMemoryWindowEnd || size > q35::kPciMemoryWindowEnd - base)
        return unexpected(fmt::format("no room for a BAR of {:#x} bytes in the PCI window [{:#x}, {:#x})", size,
                                      q35::kPciMemoryWindowBase, q35::kPciMemoryWindowEnd));
    next_free_ = base + align;
    return base;
}

Expected<std::unique_ptr<QtestPciFunction>, std::string> QtestPciBus::enable(PciAddress function)
{
    using namespace virtio::pci;
    auto ids = config_read(function, kVendorId, 4);
    if (!ids)
        return unexpected(ids.error());
    if ((*ids & 0xffff) == 0xffff)
        return unexpected(fmt::format("no PCI function answers at {}", function.to_string()));
    auto header = config_read(function, kHeaderType, 1);
    if (!header)
        return unexpected(header.error());
    if ((*header & 0x7f) != 0)
        return unexpected(fmt::format("{} has header type {:#x}; only type 0 functions are enabled here",
                                      function.to_string(), *header & 0x7f));

    std::array<PciBar, kBarCount> bars{};
    for (unsigned i = 0; i < kBarCount; ++i) {
        bool upper_half_next = false;
        auto bar = size_bar(function, i, upper_half_next);
        if (!bar)
            return unexpected(bar.error());
        bars[i] = *bar;
        if (bar->size != 0 && !bar->io) {
            auto base = allocate(bar->size);
            if (!base)
                return unexpected(base.error());
            bars[i].address = *base;
            if (auto w = config_write(function, kBar0 + 4 * i, 4, static_cast<uint32_t>(*base)); !w)
                return unexpected(w.error());
            if (bar->is_64bit)
                if (auto w = config_write(function, kBar0 + 4 * (i + 1), 4, static_cast<uint32_t>(*base >> 32)); !w)
                    return unexpected(w.error());
        }
        if (upper_half_next)
            ++i;
    }
    auto command = config_read(function, kCommand, 2);
    if (!command)
        return unexpected(command.error());
    if (auto w = config_write(function, kCommand, 2, *command | kCommandMemory | kCommandMaster); !w)
        return unexpected(w.error());
    return std::make_unique<QtestPciFunction>(*this, qtest_, function, bars);
}

QtestPciFunction::QtestPciFunction(QtestPciBus& bus, QtestClient& qtest, PciAddress address,
                                   const std::array<PciBar, virtio::pci::kBarCount>& bars)
    : bus_(bus), memory_space_(qtest, 0, UINT64_MAX), address_(address), bars_(bars)
{
    for (unsigned i = 0; i < bars_.size(); ++i)
        if (bars_[i].address)
            windows_[i] = std::make_unique<Window>(qtest, *bars_[i].address, bars_[i].size);
}

uint32_t QtestPciFunction::config_read(uint32_t offset, unsigned size)
{
    auto value = bus_.config_read(address_, offset, size);
    return value ? *value : all_ones(size == 1 || size == 2 ? size : 4);
}

void QtestPciFunction::config_write(uint32_t offset, unsigned size, uint32_t value)
{
    [[maybe_unused]] auto written = bus_.config_write(address_, offset, size, value);
}

MmioRegion* QtestPciFunction::bar(unsigned index)
{
    return index < windows_.size() ? windows_[index].get() : nullptr;
}

bool QtestPciFunction::Window::inside(uint64_t offset, unsigned size) const
{
    return (size == 1 || size == 2 || size == 4 || size == 8) && offset < size_ && size <= size_ - offset;
}

uint64_t QtestPciFunction::Window::read(uint64_t offset, unsigned size)
{
    const uint64_t ones = size >= 8 ? UINT64_MAX : (uint64_t{1} << (8 * size)) - 1;
    if (!inside(offset, size))
        return ones;
    auto value = qtest_.read(base_ + offset, size);
    return value ? *value : ones;
}

void QtestPciFunction::Window::write(uint64_t offset, unsigned size, uint64_t value)
{
    if (!inside(offset, size))
        return;
    const uint64_t ones = size >= 8 ? UINT64_MAX : (uint64_t{1} << (8 * size)) - 1;
    [[maybe_unused]] auto written = qtest_.write(base_ + offset, size, value & ones);
}

} // namespace viommu::system::qemu
