#include "guest-model/profiles/json_read.h"

#include <fmt/format.h>

namespace viommu::guest::profiles::json_read {

Expected<Json, std::string> parse(std::string_view text, std::string_view source)
{
    try {
        return Json::parse(text);
    } catch (const Json::exception& e) {
        return unexpected(fmt::format("{}: {}", source, e.what()));
    }
}

std::string Object::error(std::string_view problem) const
{
    if (path_.empty())
        return fmt::format("{}: {}", source_, problem);
    return fmt::format("{}: {}: {}", source_, path_, problem);
}

std::string Object::error(std::string_view key, std::string_view problem) const
{
    if (path_.empty())
        return fmt::format("{}: {}: {}", source_, key, problem);
    return fmt::format("{}: {}.{}: {}", source_, path_, key, problem);
}

Expected<void, std::string> Object::check_is_object() const
{
    if (!json_.is_object())
        return unexpected(error(fmt::format("expected an object, found {}", json_.type_name())));
    return {};
}

Expected<void, std::string> Object::check_keys(std::initializer_list<std::string_view> allowed) const
{
    for (const auto& [key, value] : json_.items()) {
        bool known = false;
        for (std::string_view a : allowed)
            known = known || key == a;
        if (!known) {
            std::string list;
            for (std::string_view a : allowed)
                list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
            return unexpected(error(key, fmt::format("unknown field (expected one of: {})", list)));
        }
    }
    return {};
}

Expected<std::string, std::string> Object::string(std::string_view key) const
{
    const auto it = json_.find(key);
    if (it == json_.end())
        return unexpected(error(key, "missing"));
    if (!it->is_string())
        return unexpected(error(key, fmt::format("expected a string, found {}", it->type_name())));
    return it->get<std::string>();
}

Expected<std::string, std::string> Object::string_or(std::string_view key, std::string fallback) const
{
    if (!json_.contains(key))
        return fallback;
    return string(key);
}

Object Object::child(const Json& json, std::string_view key) const
{
    return Object(json, source_, path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key));
}

Expected<Object, std::string> Object::object(std::string_view key) const
{
    const auto it = json_.find(key);
    if (it == json_.end())
        return unexpected(error(key, "missing"));
    Object o = child(*it, key);
    if (auto ok = o.check_is_object(); !ok)
        return unexpected(ok.error());
    return o;
}

} // namespace viommu::guest::profiles::json_read
