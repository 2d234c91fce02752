// The tokens of one JSON message and their parse into a value, with the error messages of QEMU 7.2's
// qobject/json-parser.c ("JSON parse error, expecting value", "... invalid keyword 'tru'", ...).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace viommu::system::monitor {

enum class TokenType { kLCurly, kRCurly, kLSquare, kRSquare, kColon, kComma, kString, kInteger, kFloat, kKeyword };

struct Token {
    TokenType type;
    std::string text; // as lexed: a string with its quotes and escapes
};

// One message: its value, or the error QEMU would report for it ("JSON parse error, ...").
using JsonMessage = Expected<nlohmann::json, std::string>;

// The value of a complete message (its braces and brackets balance, or it is one scalar).
JsonMessage parse_tokens(const std::vector<Token>& tokens);

} // namespace viommu::system::monitor
