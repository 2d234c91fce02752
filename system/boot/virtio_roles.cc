#include "system/boot/virtio_roles.h"

#include <linux/virtio_ids.h>

namespace viommu::system::boot {

namespace {

using Kind = hw::endpoints::DmaEngine::Kind;

constexpr VirtioRole kRoles[] = {
    // The virtio-iommu's own function is never translated by itself and does no endpoint DMA.
    {Role::kVirtioIommu, VIRTIO_ID_IOMMU, "virtio_iommu", std::nullopt},
    {Role::kVirtioNet, VIRTIO_ID_NET, "virtio_net", Kind::kNetRx},
    {Role::kVirtioBlk, VIRTIO_ID_BLOCK, "virtio_blk", Kind::kAssigned},
    // rng, balloon, ...: bound by virtio-pci, no driver or DMA modelled.
    {Role::kVirtioOther, 0, "", std::nullopt},
};

} // namespace

const VirtioRole* virtio_role(Role role)
{
    for (const VirtioRole& r : kRoles)
        if (r.role == role)
            return &r;
    return nullptr;
}

std::span<const VirtioRole> virtio_roles()
{
    return kRoles;
}

} // namespace viommu::system::boot
