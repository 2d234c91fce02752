// A command's arguments checked against its parameters as QEMU's QAPI input visitor checks them
// (qapi/qobject-input-visitor.c): a missing one is "Parameter 'id' is missing", one of the wrong JSON
// type "Invalid parameter type for 'id', expected: string", one the command does not take
// "Parameter 'foo' is unexpected"; all GenericError. Checked once, before the command runs.
#pragma once

#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "system/monitor/qmp_error.h"

namespace viommu::system::monitor {

enum class ParamType { kString, kInteger, kUnsigned, kBoolean, kStringList };

struct Param {
    const char* name;
    ParamType type;
    bool optional = false;
};

// Every argument against params; extra_allowed: the command also takes properties it checks itself
// (device_add's device properties).
Expected<void, QmpError> check_arguments(const nlohmann::json& args, std::span<const Param> params, bool extra_allowed = false);

// An argument the check let through, or nullopt when it is absent.
std::optional<std::string> string_arg(const nlohmann::json& args, const char* name);
std::optional<uint64_t> unsigned_arg(const nlohmann::json& args, const char* name);

} // namespace viommu::system::monitor
