#include "system/monitor/arguments.h"

#include <fmt/format.h>

namespace viommu::system::monitor {

namespace {

// The name the visitor's "expected: %s" gives each type.
const char* expected_name(ParamType t)
{
    switch (t) {
    case ParamType::kString: return "string";
    case ParamType::kInteger:
    case ParamType::kUnsigned: return "integer";
    case ParamType::kBoolean: return "boolean";
    case ParamType::kStringList: return "array";
    }
    return "?";
}

bool non_negative_integer(const nlohmann::json& v)
{
    return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

bool fits(const nlohmann::json& v, ParamType t)
{
    switch (t) {
    case ParamType::kString: return v.is_string();
    case ParamType::kInteger: return v.is_number_integer();
    case ParamType::kUnsigned: return non_negative_integer(v);
    case ParamType::kBoolean: return v.is_boolean();
    case ParamType::kStringList: return v.is_array();
    }
    return false;
}

} // namespace

Expected<void, QmpError> check_arguments(const nlohmann::json& args, std::span<const Param> params, bool extra_allowed)
{
    for (const Param& p : params) {
        const auto it = args.find(p.name);
        if (it == args.end()) {
            if (!p.optional)
                return unexpected(generic_error(fmt::format("Parameter '{}' is missing", p.name)));
            continue;
        }
        // A negative number for an unsigned parameter is out of range, not of the wrong type
        // (visit_type_uint64(): "Parameter '%s' expects uint64"), as QEMU says.
        if (p.type == ParamType::kUnsigned && it->is_number_integer() && !non_negative_integer(*it))
            return unexpected(generic_error(fmt::format("Parameter '{}' expects uint64", p.name)));
        if (!fits(*it, p.type))
            return unexpected(generic_error(
                fmt::format("Invalid parameter type for '{}', expected: {}", p.name, expected_name(p.type))));
        if (p.type == ParamType::kStringList)
            for (std::size_t i = 0; i < it->size(); ++i)
                if (!(*it)[i].is_string())
                    return unexpected(generic_error(
                        fmt::format("Invalid parameter type for '{}[{}]', expected: string", p.name, i)));
    }
    if (!extra_allowed)
        for (const auto& [name, value] : args.items()) {
            bool known = false;
            for (const Param& p : params)
                known = known || name == p.name;
            if (!known)
                return unexpected(generic_error(fmt::format("Parameter '{}' is unexpected", name)));
        }
    return {};
}

std::optional<std::string> string_arg(const nlohmann::json& args, const char* name)
{
    const auto it = args.find(name);
    if (it == args.end() || !it->is_string())
        return std::nullopt;
    return it->get<std::string>();
}

std::optional<uint64_t> unsigned_arg(const nlohmann::json& args, const char* name)
{
    const auto it = args.find(name);
    if (it == args.end() || !non_negative_integer(*it))
        return std::nullopt;
    return it->get<uint64_t>();
}

} // namespace viommu::system::monitor
