// virtio-iommu on PCI as QEMU 7.2's virtio-iommu-pci presents it (hw/virtio/virtio-iommu-pci.c).
#include <catch2/catch.hpp>

#include "hw/virtio-iommu/device.h"
#include "hw/virtio-iommu/pci.h"
#include "tests/support/pci_fixture.h"

using namespace viommu;
using namespace viommu::test;
namespace pci = viommu::virtio::pci;
using hw::virtio_iommu::VirtioIommu;

TEST_CASE("virtio-iommu-pci is device 0x1057, class 0xff0000, with no MSI-X, as in QEMU 7.2", "[conformance][pci][virtio-iommu]")
{
    PciBoard<VirtioIommu> b(hw::virtio_iommu::pci_identity(), hw::virtio_iommu::IommuConfig{});
    CHECK(b.cfg(pci::kVendorId, 2) == 0x1af4);
    CHECK(b.cfg(pci::kDeviceId, 2) == 0x1057);
    CHECK((b.cfg(pci::kRevisionId, 4) >> 8) == 0xff0000);
    CHECK(b.cfg(pci::kCapabilityList, 1) == 0x84); // no MSI-X capability ahead of the virtio ones
    CHECK(b.transport.msix() == nullptr);
}

TEST_CASE("virtio-iommu comes up through virtio-pci: both queues enabled, DRIVER_OK", "[conformance][pci][virtio-iommu]")
{
    PciBoard<VirtioIommu> b(hw::virtio_iommu::pci_identity(2), hw::virtio_iommu::IommuConfig{});
    b.negotiate();
    CHECK(b.common(pci::kNumQueues, 2) == 2);
    for (uint16_t q = 0; q < 2; ++q) {
        b.set_common(pci::kQueueSelect, 2, q);
        b.set_common(pci::kQueueSize, 2, 16);
        b.set_common(pci::kQueueDesc, 8, kPciDescArea + 0x1000 * q);
        b.set_common(pci::kQueueDriver, 8, kPciAvailArea + 0x1000 * q);
        b.set_common(pci::kQueueDevice, 8, kPciUsedArea + 0x1000 * q);
        b.set_common(pci::kQueueEnable, 2, 1);
    }
    b.set_status(b.status() | virtio::status::kDriverOk);
    CHECK(b.status() == (virtio::status::kAcknowledge | virtio::status::kDriver | virtio::status::kFeaturesOk |
                         virtio::status::kDriverOk));
    // The device configuration structure is virtio-iommu's (§5.13.4): page_size_mask first.
    CHECK(b.modern().read(virtio::PciTransport::kDeviceCfgOffset, 8) == b.device.config().page_size_mask);
}

// QEMU 7.2 turned the "queue_reset" property of every virtio device on by default (commit 69e1c14aa222,
// "virtio: core: vq reset feature negotation support", in DEFINE_VIRTIO_COMMON_FEATURES).
TEST_CASE("virtio-iommu-pci offers VIRTIO_F_RING_RESET, as QEMU 7.2's virtio devices do by default", "[conformance][pci][virtio-iommu][2.6.1]")
{
    PciBoard<VirtioIommu> b(hw::virtio_iommu::pci_identity(), hw::virtio_iommu::IommuConfig{});
    b.enable();
    b.set_common(pci::kDeviceFeatureSelect, 4, 1);
    CHECK(b.common(pci::kDeviceFeature, 4) & (1u << (virtio::kFRingReset - 32)));
}
