// Typed reads from a parsed JSON document, each failure naming where it happened
// ("facts.json: behaviours.driver_core.x.mainline.release: expected a string"), so that a bad data or
// profile file is reported with its name, the field and the problem.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace viommu::guest::profiles::json_read {

using Json = nlohmann::json;

// Parses text; the error is "<source>: <nlohmann's message, with line and column>".
[[nodiscard]] Expected<Json, std::string> parse(std::string_view text, std::string_view source);

// A field reader for one object: every error starts with "<source>: <path>".
class Object {
public:
    Object(const Json& json, std::string source, std::string path)
        : json_(json), source_(std::move(source)), path_(std::move(path))
    {
    }

    [[nodiscard]] Expected<void, std::string> check_is_object() const;
    // Only the given keys may appear: a misspelt key is an error, not silently ignored.
    [[nodiscard]] Expected<void, std::string> check_keys(std::initializer_list<std::string_view> allowed) const;

    bool has(std::string_view key) const { return json_.contains(key); }
    [[nodiscard]] Expected<std::string, std::string> string(std::string_view key) const;
    // Absent: fallback; present but not a string: an error.
    [[nodiscard]] Expected<std::string, std::string> string_or(std::string_view key, std::string fallback) const;
    [[nodiscard]] Expected<Object, std::string> object(std::string_view key) const;
    const Json& json() const { return json_; }
    Object child(const Json& json, std::string_view key) const;

    // "<source>: <path>.<key>: <problem>"
    std::string error(std::string_view key, std::string_view problem) const;
    std::string error(std::string_view problem) const;

private:
    const Json& json_;
    std::string source_;
    std::string path_;
};

} // namespace viommu::guest::profiles::json_read
