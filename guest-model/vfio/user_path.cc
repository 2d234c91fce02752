#include "guest-model/vfio/user_path.h"

#include "guest-model/kernel/errno.h"
#include "guest-model/profiles/fact_keys.h"

namespace viommu::guest::vfio {

namespace {

using key = profiles::fact::vfio;

// The device node is not there: open() fails with ENOENT.
Verdict enoent(Stage stage, Rule rule, std::string reason)
{
    return refusal(stage, rule, kernel::kENOENT, std::move(reason));
}

} // namespace

const char* backend_name(Backend backend)
{
    switch (backend) {
    case Backend::kType1Container: return "type1";
    case Backend::kIommufdCompat: return "iommufd-compat";
    case Backend::kIommufd: return "iommufd";
    }
    return "?";
}

std::optional<Backend> backend_named(std::string_view name)
{
    for (Backend b : {Backend::kType1Container, Backend::kIommufdCompat, Backend::kIommufd})
        if (name == backend_name(b))
            return b;
    return std::nullopt;
}

const char* backend_description(Backend backend)
{
    switch (backend) {
    case Backend::kType1Container:
        return "/dev/vfio/vfio (VFIO's container), VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)";
    case Backend::kIommufdCompat:
        return "iommufd's compat container (/dev/vfio/vfio or /dev/iommu), VFIO_GROUP_SET_CONTAINER, "
               "VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)";
    case Backend::kIommufd:
        return "/dev/vfio/devices/vfioN and /dev/iommu, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT";
    }
    return "?";
}

Backend answering(Backend requested, const UserPathConfig& config)
{
    if (requested == Backend::kType1Container && !config.vfio_container && config.iommufd_vfio_container)
        return Backend::kIommufdCompat;
    return requested;
}

Stage iommufd_bind_stage(Backend backend)
{
    return backend == Backend::kIommufd ? Stage::kIommufdBind : Stage::kGetDeviceFd;
}

Stage iommufd_attach_stage(Backend backend)
{
    return backend == Backend::kIommufd ? Stage::kIommufdAttach : Stage::kGetDeviceFd;
}

std::optional<Verdict> open_refusal(Backend requested, const UserPathConfig& config, const GateBehaviour& behaviour)
{
    switch (requested) {
    case Backend::kType1Container:
        // e5a9ec7e096a (v6.2) made VFIO's container optional; iommufd may provide the node instead.
        if (config.vfio_container || config.iommufd_vfio_container)
            return std::nullopt;
        return enoent(Stage::kOpenContainer, Rule::kVfioContainer,
                      "no /dev/vfio/vfio: the kernel builds neither VFIO's container (CONFIG_VFIO_CONTAINER) nor "
                      "iommufd's (CONFIG_IOMMUFD_VFIO_CONTAINER)");
    case Backend::kIommufdCompat: {
        if (config.iommufd && behaviour.iommufd_vfio_compat)
            return std::nullopt;
        Verdict v = enoent(Stage::kOpenIommufd, Rule::kIommufdVfioCompat,
                           behaviour.iommufd_vfio_compat
                               ? "no /dev/iommu: the kernel does not build iommufd (CONFIG_IOMMUFD is not set)"
                               : "no /dev/iommu: the release has no iommufd, whose compat container came in v6.2");
        v.commit = behaviour.commit(key::kIommufdVfioCompat);
        v.remedies = {behaviour.iommufd_vfio_compat ? "a kernel built with CONFIG_IOMMUFD" : "a kernel from v6.2 with CONFIG_IOMMUFD",
                      "the type1 container (--vfio-user type1)"};
        return v;
    }
    case Backend::kIommufd: {
        if (config.device_cdev && behaviour.device_cdev)
            return std::nullopt;
        Verdict v = enoent(Stage::kOpenDeviceCdev, Rule::kDeviceCdev,
                           !behaviour.device_cdev ? "no /dev/vfio/devices: the release has no VFIO device cdev, which came in v6.6"
                           : config.iommufd       ? "no /dev/vfio/devices: the kernel does not build the VFIO device cdev "
                                                    "(CONFIG_VFIO_DEVICE_CDEV is not set)"
                                                  : "no /dev/vfio/devices: the kernel does not build the VFIO device cdev, "
                                                    "which depends on CONFIG_IOMMUFD (not set)");
        v.commit = behaviour.commit(key::kDeviceCdev);
        v.remedies = {behaviour.device_cdev ? "a kernel built with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV"
                                            : "a kernel from v6.6 with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV",
                      "the type1 container (--vfio-user type1)"};
        return v;
    }
    }
    return std::nullopt;
}

} // namespace viommu::guest::vfio
