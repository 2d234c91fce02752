// JSON as QEMU's monitor writes it (qobject/qjson.c, to_json() without pretty-printing): ": " after a
// key, ", " between members and elements, one message per line.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace viommu::system::monitor {

std::string qmp_text(const nlohmann::ordered_json& value);

} // namespace viommu::system::monitor
