// The three ways the guest's user drives VFIO once vfio-pci is bound, chosen per run, and what each
// needs of the kernel: the device node it starts from, and the ioctl in which iommufd binds and
// attaches the device. The gate (gate.h) applies the rules of each stage.
//  - type1: VFIO's own container /dev/vfio/vfio, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(TYPE1v2).
//  - iommufd-compat: the same ioctls on a container iommufd provides (d624d6652a65, v6.2): /dev/vfio/vfio
//    when CONFIG_IOMMUFD_VFIO_CONTAINER=y, else /dev/iommu itself; the group is bound and attached to
//    iommufd's compat IOAS when the device is opened (VFIO_GROUP_GET_DEVICE_FD).
//  - iommufd: the device cdev /dev/vfio/devices/vfioN (5fcc26969a16, v6.6), VFIO_DEVICE_BIND_IOMMUFD,
//    IOMMU_IOAS_ALLOC, VFIO_DEVICE_ATTACH_IOMMUFD_PT, IOMMU_IOAS_MAP.
#pragma once

#include <optional>
#include <string_view>

#include "guest-model/vfio/gate_behaviour.h"
#include "guest-model/vfio/verdict.h"

namespace viommu::guest::vfio {

enum class Backend { kType1Container, kIommufdCompat, kIommufd };

// "type1", "iommufd-compat", "iommufd": the names of --vfio-user and <viommu:vfio backend=...>.
const char* backend_name(Backend backend);
std::optional<Backend> backend_named(std::string_view name);
// What the user opens and calls, for reports: "/dev/vfio/vfio (VFIO's container), VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)".
const char* backend_description(Backend backend);

// The kernel's configuration that decides which device nodes exist.
struct UserPathConfig {
    bool vfio_container = true;          // CONFIG_VFIO_CONTAINER (optional from e5a9ec7e096a, v6.2; always built before)
    bool iommufd = false;                // CONFIG_IOMMUFD: /dev/iommu
    bool iommufd_vfio_container = false; // CONFIG_IOMMUFD_VFIO_CONTAINER: iommufd provides /dev/vfio/vfio
    bool device_cdev = false;            // CONFIG_VFIO_DEVICE_CDEV: /dev/vfio/devices/vfioN
};

// Who answers the user's container ioctls: a type1 user gets iommufd's compat container when iommufd
// provides /dev/vfio/vfio (CONFIG_VFIO_CONTAINER=n, CONFIG_IOMMUFD_VFIO_CONTAINER=y).
Backend answering(Backend requested, const UserPathConfig& config);

// Where iommufd_device_bind() and iommufd_device_attach() run: inside VFIO_GROUP_GET_DEVICE_FD on a
// compat container (vfio_iommufd_bind() auto-attaches to the compat IOAS), in their own ioctls on the cdev.
Stage iommufd_bind_stage(Backend backend);
Stage iommufd_attach_stage(Backend backend);

// The path's first step, opening its device node: ENOENT with the rule when the kernel lacks it
// (a release before the path existed, or a configuration without it), else nothing.
std::optional<Verdict> open_refusal(Backend requested, const UserPathConfig& config, const GateBehaviour& behaviour);

} // namespace viommu::guest::vfio
