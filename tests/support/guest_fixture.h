// A guest with one device behind virtio-mmio: guest RAM, an io_context for the device's executor, the
// transport, and the guest's virtio-mmio driver. Tests drive it like a boot does.
#pragma once

#include <memory>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio-drivers/mmio_driver.h"
#include "virtio/guest_memory.h"
#include "virtio/mmio_transport.h"

namespace viommu::test {

inline constexpr uint64_t kRamBase = 0x4000'0000;
inline constexpr uint64_t kRamSize = 64ull << 20;

inline virtio::GuestMemory make_ram(uint64_t base = kRamBase, uint64_t size = kRamSize)
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(base), size}});
    if (!mem)
        throw std::runtime_error(mem.error());
    return std::move(*mem);
}

// A CPU whose wait runs whatever is ready on one io_context (a board with nothing else on it).
class PollingCpu final : public WaitForEvent {
public:
    explicit PollingCpu(boost::asio::io_context& io) : io_(io) {}
    bool wait() override
    {
        const std::size_t ran = io_.poll();
        io_.restart();
        return ran != 0;
    }

private:
    boost::asio::io_context& io_;
};

template <class Device>
struct Guest {
    template <class... Args>
    explicit Guest(Args&&... args)
        : mem(make_ram()), alloc(GuestAddr(kRamBase), kRamSize), device(mem, std::forward<Args>(args)...),
          transport(device, io.get_executor(), irq), driver({transport, irq, mem, alloc, io.get_executor(), cpu})
    {
    }

    // Runs the device and interrupt work that is ready.
    void run() { (void)cpu.wait(); }

    // Brings the device up the way virtio_dev_probe() does, accepting `features` (all offered if 0).
    void bring_up(virtio::FeatureBits features = 0, uint32_t queue_size = 0)
    {
        if (auto ok = driver.probe(); !ok)
            throw std::runtime_error(ok.error());
        driver.reset();
        driver.add_status(virtio::status::kAcknowledge);
        driver.add_status(virtio::status::kDriver);
        const auto offered = driver.device_features();
        if (auto ok = driver.finalize_features(features ? features : offered); !ok)
            throw std::runtime_error(ok.error());
        auto q = driver.setup_vq(0, queue_size, [this] { ++callbacks; });
        if (!q)
            throw std::runtime_error(q.error());
        driver.driver_ok();
    }

    guest::virtio_drivers::DriverQueue& vq() { return *driver.vq(0); }
    uint8_t status() { return static_cast<uint8_t>(transport.read(0x70, 4)); }
    bool needs_reset() { return status() & virtio::status::kNeedsReset; }

    boost::asio::io_context io;
    PollingCpu cpu{io};
    virtio::GuestMemory mem;
    guest::mm::PhysAllocator alloc;
    Device device;
    IrqWire irq;
    virtio::MmioTransport transport;
    guest::virtio_drivers::VirtioMmioDriver driver;
    int callbacks = 0;
};

} // namespace viommu::test
