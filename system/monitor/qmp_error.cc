#include "system/monitor/qmp_error.h"

namespace viommu::system::monitor {

const char* error_class_name(ErrorClass c)
{
    switch (c) {
    case ErrorClass::kGenericError: return "GenericError";
    case ErrorClass::kCommandNotFound: return "CommandNotFound";
    case ErrorClass::kDeviceNotActive: return "DeviceNotActive";
    case ErrorClass::kDeviceNotFound: return "DeviceNotFound";
    case ErrorClass::kKvmMissingCap: return "KVMMissingCap";
    }
    return "GenericError";
}

} // namespace viommu::system::monitor
