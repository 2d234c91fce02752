// QMP's error classes (QEMU 7.2 qapi/error.json, QapiErrorClass) and an error as a command returns it:
// {"error": {"class": "CommandNotFound", "desc": "The command foo has not been found"}}.
#pragma once

#include <string>

namespace viommu::system::monitor {

enum class ErrorClass { kGenericError, kCommandNotFound, kDeviceNotActive, kDeviceNotFound, kKvmMissingCap };

const char* error_class_name(ErrorClass c);

struct QmpError {
    ErrorClass error_class = ErrorClass::kGenericError;
    std::string desc;
};

// error_setg(): a GenericError.
inline QmpError generic_error(std::string desc)
{
    return {ErrorClass::kGenericError, std::move(desc)};
}

} // namespace viommu::system::monitor
