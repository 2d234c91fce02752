#include "system/boot/guest_spec.h"

namespace viommu::system::boot {

const char* role_name(Role role)
{
    switch (role) {
    case Role::kHostBridge: return "host-bridge";
    case Role::kBridge: return "bridge";
    case Role::kVirtioIommu: return "virtio-iommu";
    case Role::kVirtioNet: return "virtio-net";
    case Role::kVirtioBlk: return "virtio-blk";
    case Role::kVirtioOther: return "virtio";
    case Role::kHostdev: return "hostdev";
    case Role::kEmulated: return "emulated";
    }
    return "?";
}

} // namespace viommu::system::boot
