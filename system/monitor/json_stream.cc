// The lexer and the streamer of QEMU 7.2's JSON input (qobject/json-lexer.c, json-streamer.c), folded
// into one state machine over bytes; the parse of a complete message is json_parser.cc's.
#include "system/monitor/json_stream.h"

#include <fmt/format.h>

namespace viommu::system::monitor {

namespace {

bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

// json-lexer.c's IN_RECOVERY: after a lexical error input is skipped up to a structural character, a
// control character other than tab, or a byte that is never UTF-8 (0xFE, 0xFF); that character is
// then lexed afresh.
bool resynchronises(unsigned char c)
{
    return c == '[' || c == ']' || c == '{' || c == '}' || (c < 0x20 && c != '\t') || c >= 0xfe;
}

// The number grammar of json-lexer.c (RFC 8259's), one state per IN_* number state.
enum class Num { kNeg, kZero, kInt, kDot, kFrac, kExp, kExpSign, kExpDigits };

// Where an accepted character takes a number.
Num next_number_state(Num at, unsigned char c)
{
    if (c == 'e' || c == 'E')
        return Num::kExp;
    if (c == '.')
        return Num::kDot;
    if (c == '+' || c == '-')
        return Num::kExpSign;
    switch (at) {
    case Num::kNeg: return c == '0' ? Num::kZero : Num::kInt;
    case Num::kDot: return Num::kFrac;
    case Num::kExp:
    case Num::kExpSign: return Num::kExpDigits;
    case Num::kZero:
    case Num::kInt:
    case Num::kFrac:
    case Num::kExpDigits: break;
    }
    return at;
}

} // namespace

JsonStream::JsonStream(Emit emit, JsonLimits limits) : emit_(std::move(emit)), limits_(limits) {}

void JsonStream::feed(std::string_view bytes)
{
    for (char c : bytes)
        feed_char(static_cast<unsigned char>(c));
}

void JsonStream::reset()
{
    state_ = State::kStart;
    text_.clear();
    tokens_.clear();
    bytes_ = 0;
    braces_ = brackets_ = 0;
}

bool JsonStream::pending() const
{
    return !tokens_.empty() || !text_.empty();
}

void JsonStream::feed_char(unsigned char c)
{
    // One token may not outgrow the message bound either (json-lexer.c's own MAX_TOKEN_SIZE check).
    if (text_.size() >= limits_.max_bytes) {
        emit_and_reset(unexpected(std::string("JSON token size limit exceeded")));
        state_ = State::kRecovery;
    }
    switch (state_) {
    case State::kRecovery:
        if (!resynchronises(c))
            return;
        state_ = State::kStart;
        [[fallthrough]];
    case State::kStart:
        if (!start_token(c)) {
            text_ = static_cast<char>(c);
            lexical_error();
        }
        return;
    case State::kString:
        text_ += static_cast<char>(c);
        if (c == '\\')
            state_ = State::kStringEscape;
        else if (c == quote_) {
            state_ = State::kStart;
            token(TokenType::kString);
        } else if (c < 0x20 || c > 0xfd)
            lexical_error();
        return;
    case State::kStringEscape:
        text_ += static_cast<char>(c);
        if (c < 0x20 || c > 0xfd)
            lexical_error();
        else
            state_ = State::kString;
        return;
    case State::kNumber:
    case State::kKeyword: end_number_or_keyword(c); return;
    }
}

bool JsonStream::start_token(unsigned char c)
{
    if (is_space(c))
        return true;
    text_ = static_cast<char>(c);
    switch (c) {
    case '{': token(TokenType::kLCurly); return true;
    case '}': token(TokenType::kRCurly); return true;
    case '[': token(TokenType::kLSquare); return true;
    case ']': token(TokenType::kRSquare); return true;
    case ':': token(TokenType::kColon); return true;
    case ',': token(TokenType::kComma); return true;
    case '"':
    case '\'':
        quote_ = c;
        state_ = State::kString;
        return true;
    default: break;
    }
    if (c == '-' || is_digit(c)) {
        state_ = State::kNumber;
        number_state_ = static_cast<int>(c == '-' ? Num::kNeg : c == '0' ? Num::kZero : Num::kInt);
        return true;
    }
    if (c >= 'a' && c <= 'z') {
        state_ = State::kKeyword;
        return true;
    }
    text_.clear();
    return false;
}

void JsonStream::end_number_or_keyword(unsigned char c)
{
    if (state_ == State::kKeyword) {
        if (c >= 'a' && c <= 'z') {
            text_ += static_cast<char>(c);
            return;
        }
        state_ = State::kStart;
        token(TokenType::kKeyword);
        feed_char(c); // the lookahead character starts the next token
        return;
    }
    const auto at = static_cast<Num>(number_state_);
    bool accept = false, terminal = false;
    switch (at) {
    case Num::kNeg: accept = is_digit(c); break;
    case Num::kZero:
        accept = c == '.';
        terminal = !accept && !is_digit(c); // "01" is an error, "0" then anything else is a number
        break;
    case Num::kInt:
        accept = is_digit(c) || c == '.' || c == 'e' || c == 'E';
        terminal = !accept;
        break;
    case Num::kDot: accept = is_digit(c); break;
    case Num::kFrac:
        accept = is_digit(c) || c == 'e' || c == 'E';
        terminal = !accept;
        break;
    case Num::kExp: accept = is_digit(c) || c == '+' || c == '-'; break;
    case Num::kExpSign: accept = is_digit(c); break;
    case Num::kExpDigits:
        accept = is_digit(c);
        terminal = !accept;
        break;
    }
    if (accept) {
        text_ += static_cast<char>(c);
        number_state_ = static_cast<int>(next_number_state(at, c));
        return;
    }
    if (terminal) {
        const bool integer = at == Num::kInt || at == Num::kZero;
        state_ = State::kStart;
        token(integer ? TokenType::kInteger : TokenType::kFloat);
        feed_char(c);
        return;
    }
    text_ += static_cast<char>(c);
    lexical_error();
}

void JsonStream::lexical_error()
{
    // json_message_process_token(JSON_ERROR): what was pending is dropped with the bad token.
    const std::string stray = text_;
    emit_and_reset(unexpected(fmt::format("JSON parse error, stray '{}'", stray)));
    state_ = State::kRecovery;
}

void JsonStream::token(TokenType type)
{
    switch (type) {
    case TokenType::kLCurly: ++braces_; break;
    case TokenType::kRCurly: --braces_; break;
    case TokenType::kLSquare: ++brackets_; break;
    case TokenType::kRSquare: --brackets_; break;
    case TokenType::kColon:
    case TokenType::kComma:
    case TokenType::kString:
    case TokenType::kInteger:
    case TokenType::kFloat:
    case TokenType::kKeyword: break;
    }
    // json-streamer.c's security limits: bytes and tokens per message, and nesting depth.
    if (bytes_ + text_.size() + 1 > limits_.max_bytes)
        return emit_and_reset(unexpected(std::string("JSON token size limit exceeded")));
    if (tokens_.size() + 1 > limits_.max_tokens)
        return emit_and_reset(unexpected(std::string("JSON token count limit exceeded")));
    if (braces_ + brackets_ > static_cast<long>(limits_.max_nesting))
        return emit_and_reset(unexpected(std::string("JSON nesting depth limit exceeded")));
    bytes_ += text_.size();
    tokens_.push_back({type, std::move(text_)});
    text_.clear();
    if ((braces_ > 0 || brackets_ > 0) && braces_ >= 0 && brackets_ >= 0)
        return;
    emit_and_reset(parse_tokens(tokens_));
}

void JsonStream::emit_and_reset(JsonMessage message)
{
    tokens_.clear();
    text_.clear();
    bytes_ = 0;
    braces_ = brackets_ = 0;
    emit_(std::move(message));
}

} // namespace viommu::system::monitor
