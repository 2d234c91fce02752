// QEMU 7.2 with the guest model's own virtio-pci driver bound to its virtio-iommu-pci (00:02.0), the way
// every test that sends requests to QEMU's device sets it up.
#pragma once

#include <catch2/catch.hpp>

#include <linux/virtio_iommu.h>

#include <boost/asio/io_context.hpp>

#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio-drivers/pci_modern_driver.h"
#include "guest-model/virtio-iommu/requests.h"
#include "system/qemu/qtest_pci.h"
#include "system/qemu/qtest_wait.h"
#include "tests/integration/system/qemu/qemu_fixture.h"
#include "virtio/feature_bits.h"

namespace viommu::system::qemu::testing {

namespace req = viommu::guest::virtio_iommu::req;
using guest::virtio_drivers::Buf;
using guest::virtio_drivers::VirtioPciBehaviour;
using guest::virtio_drivers::VirtioPciModernDriver;
using guest::virtio_drivers::VqRequest;

// QEMU with our driver bound to its virtio-iommu-pci at 00:02.0; guest RAM from 1 MiB is the driver's.
struct QemuGuest {
    QemuGuest() = default;
    explicit QemuGuest(const QemuConfig& config) : qemu(start_qemu(config)) {}

    std::unique_ptr<QemuProcess> qemu = start_qemu();
    QtestPciBus bus{qemu->qtest()};
    std::unique_ptr<QtestPciFunction> function = enabled(bus);
    boost::asio::io_context io;
    QtestWaitForEvent cpu{qemu->qtest()};
    guest::mm::PhysAllocator alloc{GuestAddr(0x100000), (uint64_t{32} << 20) - 0x100000};
    VirtioPciModernDriver driver{{*function, qemu->memory(), alloc, io.get_executor(), cpu},
                                 VirtioPciBehaviour{.ring_reset = true, .ring = {}}};

    static std::unique_ptr<QtestPciFunction> enabled(QtestPciBus& bus)
    {
        auto f = bus.enable(PciAddress(0, 0, 2 << 3));
        INFO((f ? std::string() : f.error()));
        REQUIRE(f);
        return std::move(*f);
    }

    // virtio_dev_probe() for Linux's virtio-iommu driver: the features it lists (viommu_drv's
    // feature_table) and those the ring takes; the transport adds RING_RESET; both queues.
    void bring_up()
    {
        REQUIRE(driver.probe());
        driver.reset();
        driver.add_status(virtio::status::kAcknowledge);
        driver.add_status(virtio::status::kDriver);
        const virtio::FeatureBits wanted =
            virtio::feature(VIRTIO_IOMMU_F_INPUT_RANGE) | virtio::feature(VIRTIO_IOMMU_F_DOMAIN_RANGE) |
            virtio::feature(VIRTIO_IOMMU_F_MAP_UNMAP) | virtio::feature(VIRTIO_IOMMU_F_PROBE) |
            virtio::feature(VIRTIO_IOMMU_F_MMIO) | virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG) |
            virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFIndirectDesc) |
            virtio::feature(virtio::kFEventIdx);
        REQUIRE(driver.finalize_features(driver.device_features() & wanted));
        const VqRequest queues[] = {{0, {}}, {1, {}}};
        REQUIRE(driver.find_vqs(queues));
        driver.driver_ok();
    }

    // One request through the request queue; the status QEMU wrote in its tail.
    uint8_t send(const req::Encoded& r)
    {
        const GuestAddr out = *alloc.alloc(4096);
        const GuestAddr in = *alloc.alloc(4096);
        REQUIRE(qemu->memory().write(out, r.readable()));
        const Buf o{out, r.readable_len}, i{in, r.writable_len};
        REQUIRE(driver.vq(0)->add(std::span(&o, 1), std::span(&i, 1), 1));
        driver.kick(0);
        driver.wait_idle();
        const auto used = driver.vq(0)->get_buf();
        REQUIRE(used);
        REQUIRE(used->len == r.writable_len);
        return *qemu->memory().read_obj<uint8_t>(GuestAddr(in.value() + r.writable_len - 4));
    }

    // What QEMU did with one request of any shape: the used length, or nullopt when it returned nothing
    // (it gave up on the driver); and the writable part as it was left.
    struct Answer {
        std::optional<uint32_t> used_len;
        std::vector<uint8_t> written;
    };
    Answer exchange(std::span<const uint8_t> readable, uint32_t writable_len)
    {
        const GuestAddr out = *alloc.alloc(4096);
        const GuestAddr in = *alloc.alloc(4096);
        REQUIRE(qemu->memory().write(out, readable));
        REQUIRE(qemu->memory().write(in, std::vector<uint8_t>(writable_len, 0xa5)));
        const Buf o{out, static_cast<uint32_t>(readable.size())}, i{in, writable_len};
        REQUIRE(driver.vq(0)->add(std::span(&o, readable.empty() ? 0 : 1), std::span(&i, writable_len ? 1 : 0), 1));
        driver.kick(0);
        driver.wait_idle();
        Answer a;
        if (const auto used = driver.vq(0)->get_buf())
            a.used_len = used->len;
        a.written.resize(writable_len);
        REQUIRE(qemu->memory().read(in, a.written));
        return a;
    }
};


} // namespace viommu::system::qemu::testing
