// The guest model's own virtio-pci driver (guest-model/virtio-drivers/pci_modern_driver) and request
// codec driving QEMU 7.2's virtio-iommu-pci through qtest: the same code that drives our device reaches
// QEMU's, which is what comparing the two request by request rests on.
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

using namespace viommu;
using namespace viommu::system::qemu;
using namespace viommu::system::qemu::testing;
using namespace viommu::guest::virtio_drivers;
namespace req = viommu::guest::virtio_iommu::req;

namespace {

// QEMU with our driver bound to its virtio-iommu-pci at 00:02.0; guest RAM from 1 MiB is the driver's.
struct QemuGuest {
    std::unique_ptr<QemuProcess> qemu = start_qemu();
    QtestPciBus bus{qemu->qtest()};
    std::unique_ptr<QtestPciFunction> function = enabled(bus);
    boost::asio::io_context io;
    QtestWaitForEvent cpu{qemu->qtest()};
    guest::mm::PhysAllocator alloc{GuestAddr(0x100000), (uint64_t{32} << 20) - 0x100000};
    VirtioPciModernDriver driver{{*function, qemu->memory(), alloc, io.get_executor(), cpu},
                                 VirtioPciBehaviour{.ring_reset = true}};

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
};

} // namespace

TEST_CASE("our virtio-pci driver negotiates with QEMU 7.2's virtio-iommu-pci what Linux 6.12 does",
          "[integration][qemu][virtio-pci]")
{
    QemuGuest g;
    g.bring_up();
    // Real Linux 6.1 and 6.12 guests on QEMU 7.2 accept 0x10130000077: the six virtio-iommu features,
    // INDIRECT_DESC, EVENT_IDX, VERSION_1 and RING_RESET.
    CHECK(g.driver.negotiated() == 0x10130000077);
    CHECK(g.driver.irq_mode() == VirtioPciIrqMode::kIntx); // QEMU 7.2's virtio-iommu-pci has no MSI-X
    CHECK_FALSE(g.qemu->qtest().failure());
}

TEST_CASE("our request codec through our virtio-pci driver is answered by QEMU's device", "[integration][qemu][virtio-pci]")
{
    QemuGuest g;
    g.bring_up();
    // 00:03.0, the virtio-rng-pci, is an endpoint QEMU's IOMMU manages; 0x99 is no device at all.
    CHECK(g.send(req::encode(req::Attach{.domain = 1, .endpoint = 3 << 3})) == VIRTIO_IOMMU_S_OK);
    CHECK(g.send(req::encode(req::Map{.domain = 1, .virt_start = 0x1000, .virt_end = 0x1fff, .phys_start = 0x200000,
                                      .flags = VIRTIO_IOMMU_MAP_F_READ})) == VIRTIO_IOMMU_S_OK);
    CHECK(g.send(req::encode(req::Unmap{.domain = 1, .virt_start = 0x1000, .virt_end = 0x1fff})) == VIRTIO_IOMMU_S_OK);
    CHECK(g.send(req::encode(req::Attach{.domain = 1, .endpoint = 0x99})) == VIRTIO_IOMMU_S_NOENT);
    CHECK_FALSE(g.qemu->qtest().failure());
}
