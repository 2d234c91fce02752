// The table of virtio devices the guest knows: every virtio role has one row, the others none.
#include <catch2/catch.hpp>

#include <linux/virtio_ids.h>

#include <set>

#include "system/boot/virtio_roles.h"

using namespace viommu::system::boot;

TEST_CASE("every virtio role has exactly one row, and no other role has one", "[unit][boot]")
{
    std::set<Role> rows;
    for (const VirtioRole& r : virtio_roles())
        CHECK(rows.insert(r.role).second);
    CHECK(rows == std::set<Role>{Role::kVirtioIommu, Role::kVirtioNet, Role::kVirtioBlk, Role::kVirtioOther});
    for (Role r : {Role::kHostBridge, Role::kBridge, Role::kHostdev, Role::kEmulated})
        CHECK(virtio_role(r) == nullptr);
}

TEST_CASE("a virtio device is matched by its driver through its virtio device ID", "[unit][boot]")
{
    CHECK(virtio_role(Role::kVirtioIommu)->device_id == VIRTIO_ID_IOMMU);
    CHECK(virtio_role(Role::kVirtioIommu)->driver == "virtio_iommu");
    CHECK(virtio_role(Role::kVirtioNet)->device_id == VIRTIO_ID_NET);
    CHECK(virtio_role(Role::kVirtioNet)->driver == "virtio_net");
    CHECK(virtio_role(Role::kVirtioBlk)->device_id == VIRTIO_ID_BLOCK);
    CHECK(virtio_role(Role::kVirtioBlk)->driver == "virtio_blk");
    CHECK(virtio_role(Role::kVirtioOther)->driver.empty());
}

TEST_CASE("a virtio NIC fills receive buffers, a disk reads and writes, the IOMMU does no endpoint DMA",
          "[unit][boot]")
{
    CHECK(virtio_role(Role::kVirtioNet)->dma == viommu::hw::endpoints::DmaEngine::Kind::kNetRx);
    CHECK(virtio_role(Role::kVirtioBlk)->dma == viommu::hw::endpoints::DmaEngine::Kind::kAssigned);
    CHECK_FALSE(virtio_role(Role::kVirtioIommu)->dma);
    CHECK_FALSE(virtio_role(Role::kVirtioOther)->dma);
}
