// The guest model's own virtio-pci driver (guest-model/virtio-drivers/pci_modern_driver) and request
// codec driving QEMU 7.2's virtio-iommu-pci through qtest: the same code that drives our device reaches
// QEMU's, which is what comparing the two request by request rests on.
#include <catch2/catch.hpp>

#include <linux/virtio_iommu.h>

#include "guest-model/virtio-drivers/pci_modern_driver.h"
#include "guest-model/virtio-iommu/requests.h"
#include "tests/integration/system/qemu/qemu_guest.h"
#include "virtio/feature_bits.h"

using namespace viommu;
using namespace viommu::system::qemu;
using namespace viommu::system::qemu::testing;
using namespace viommu::guest::virtio_drivers;

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
