// JSON as QEMU 7.2's monitor writes it (qobject/json-writer.c, which to_json() in qobject/qjson.c
// drives without pretty-printing): ": " after a key, ", " between members and elements, strings quoted
// by quoted_str(), numbers printed by json_writer_int64() / _uint64() / _double(), an object's members
// in the order a QDict holds them (qmp_text.cc); one message per line, ended by CR LF.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace viommu::system::monitor {

std::string qmp_text(const nlohmann::ordered_json& value);

} // namespace viommu::system::monitor
