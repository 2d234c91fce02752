// JSON messages out of a byte stream, framed the way QEMU's QMP monitor frames them (qobject/json-lexer.c,
// json-streamer.c, json-parser.c of QEMU 7.2): a message ends where its braces and brackets balance, a
// top-level scalar is a message of its own, and a lexical error drops what was pending, answers with
// "JSON parse error, stray '...'" and skips input until a plausible resynchronisation point (a
// structural character or a control character other than tab; docs/interop/qmp-spec.txt, "Forcing the
// JSON parser into known-good state"). Every message is bounded in bytes, tokens and nesting, as
// QEMU's streamer bounds it, and is parsed once, here, into a typed value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "system/monitor/json_parser.h"

namespace viommu::system::monitor {

// QEMU's json-streamer.c limits: MAX_TOKEN_SIZE, MAX_TOKEN_COUNT, MAX_NESTING.
struct JsonLimits {
    std::size_t max_bytes = 64u << 20;
    std::size_t max_tokens = 2u << 20;
    std::size_t max_nesting = 1u << 10;
};

class JsonStream {
public:
    using Emit = std::function<void(JsonMessage)>;

    explicit JsonStream(Emit emit, JsonLimits limits = {});

    // Feeds bytes as they arrive; emit() is called for every message they complete.
    void feed(std::string_view bytes);
    // Forgets a half-received message (the client went away: QEMU re-creates the parser on CHR_EVENT_CLOSED).
    void reset();
    // Whether part of a message is pending.
    bool pending() const;

private:
    enum class State { kStart, kString, kStringEscape, kNumber, kKeyword, kRecovery };

    void feed_char(unsigned char c);
    // Lexes one character in kStart; false when it is not the start of any token.
    bool start_token(unsigned char c);
    void end_number_or_keyword(unsigned char next);
    void token(TokenType type);
    void lexical_error();
    void emit_and_reset(JsonMessage message);

    Emit emit_;
    JsonLimits limits_;
    State state_ = State::kStart;
    unsigned char quote_ = '"';
    int number_state_ = 0;        // json_stream.cc's Num, while lexing a number
    std::string text_;            // the token being lexed
    std::vector<Token> tokens_;   // the message so far
    std::size_t bytes_ = 0;       // its size in token bytes
    long braces_ = 0;
    long brackets_ = 0;
};

} // namespace viommu::system::monitor
