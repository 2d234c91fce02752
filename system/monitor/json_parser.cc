// QEMU 7.2's qobject/json-parser.c, rule for rule: objects, arrays, the three keywords, strings with
// QEMU's escapes (\' too, as its lexer accepts single-quoted strings), integers as int64 when they fit,
// else uint64, else double. The first error found is the one reported (parse_error() keeps it).
#include "system/monitor/json_parser.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "system/monitor/mod_utf8.h"

namespace viommu::system::monitor {

namespace {

using nlohmann::json;

class Parser {
public:
    explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

    JsonMessage run()
    {
        json value = parse_value();
        if (error_)
            return unexpected(fmt::format("JSON parse error, {}", *error_));
        return value;
    }

private:
    const Token* peek() const { return next_ < tokens_.size() ? &tokens_[next_] : nullptr; }
    const Token* pop() { return next_ < tokens_.size() ? &tokens_[next_++] : nullptr; }
    json fail(std::string message)
    {
        if (!error_)
            error_ = std::move(message);
        return nullptr;
    }

    json parse_value()
    {
        const Token* t = peek();
        if (!t)
            return fail("premature EOI");
        switch (t->type) {
        case TokenType::kLCurly: return parse_object();
        case TokenType::kLSquare: return parse_array();
        case TokenType::kString: return parse_string(*pop());
        case TokenType::kInteger: return parse_integer(*pop());
        case TokenType::kFloat: return std::strtod(pop()->text.c_str(), nullptr);
        case TokenType::kKeyword: return parse_keyword(*pop());
        case TokenType::kRCurly:
        case TokenType::kRSquare:
        case TokenType::kColon:
        case TokenType::kComma: break;
        }
        return fail("expecting value");
    }

    json parse_object()
    {
        pop(); // {
        json object = json::object();
        const Token* t = peek();
        if (!t)
            return fail("premature EOI");
        if (t->type == TokenType::kRCurly) {
            pop();
            return object;
        }
        for (;;) {
            if (!parse_pair(object))
                return nullptr;
            t = pop();
            if (!t)
                return fail("premature EOI");
            if (t->type == TokenType::kRCurly)
                return object;
            if (t->type != TokenType::kComma)
                return fail("expected separator in dict");
        }
    }

    bool parse_pair(json& object)
    {
        const Token* key_token = peek();
        if (!key_token) {
            fail("premature EOI");
            return false;
        }
        json key = parse_value();
        if (error_ || !key.is_string()) {
            fail("key is not a string in object");
            return false;
        }
        const Token* colon = pop();
        if (!colon) {
            fail("premature EOI");
            return false;
        }
        if (colon->type != TokenType::kColon) {
            fail("missing : in object pair");
            return false;
        }
        json value = parse_value();
        if (error_) {
            fail("Missing value in dict");
            return false;
        }
        const std::string& name = key.get_ref<const std::string&>();
        if (object.contains(name)) {
            fail("duplicate key");
            return false;
        }
        object[name] = std::move(value);
        return true;
    }

    json parse_array()
    {
        pop(); // [
        json array = json::array();
        const Token* t = peek();
        if (!t)
            return fail("premature EOI");
        if (t->type == TokenType::kRSquare) {
            pop();
            return array;
        }
        for (;;) {
            json element = parse_value();
            if (error_)
                return fail("expecting value");
            array.push_back(std::move(element));
            t = pop();
            if (!t)
                return fail("premature EOI");
            if (t->type == TokenType::kRSquare)
                return array;
            if (t->type != TokenType::kComma)
                return fail("expected separator in list");
        }
    }

    json parse_keyword(const Token& t)
    {
        if (t.text == "true")
            return true;
        if (t.text == "false")
            return false;
        if (t.text == "null")
            return nullptr;
        return fail(fmt::format("invalid keyword '{}'", t.text));
    }

    json parse_integer(const Token& t)
    {
        errno = 0;
        char* end = nullptr;
        const long long i = std::strtoll(t.text.c_str(), &end, 10);
        if (errno == 0)
            return static_cast<int64_t>(i);
        if (t.text[0] != '-') {
            errno = 0;
            const unsigned long long u = std::strtoull(t.text.c_str(), &end, 10);
            if (errno == 0)
                return static_cast<uint64_t>(u);
        }
        return std::strtod(t.text.c_str(), nullptr);
    }

    static std::optional<unsigned> hex4(const std::string& s, std::size_t at)
    {
        if (at + 4 > s.size())
            return std::nullopt;
        unsigned v = 0;
        for (std::size_t i = at; i < at + 4; ++i) {
            const char c = s[i];
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return std::nullopt;
            v = v << 4 | static_cast<unsigned>(d);
        }
        return v;
    }

    // parse_string(): the escapes, then the rest as modified UTF-8 (mod_utf8.h), U+0000 included.
    json parse_string(const Token& t)
    {
        const std::string& s = t.text;
        const char quote = s[0];
        std::string out;
        for (std::size_t i = 1; i < s.size() && s[i] != quote;) {
            if (s[i] != '\\') {
                std::size_t used = 0;
                const int cp = mod_utf8_codepoint(std::string_view(s).substr(i), used);
                if (cp < 0)
                    return fail("invalid UTF-8 sequence in string");
                if (cp == 0)
                    out += '\0'; // C0 80
                else
                    out.append(s, i, used);
                i += used;
                continue;
            }
            const std::size_t escape = i;
            const char e = i + 1 < s.size() ? s[i + 1] : '\0';
            i += 2;
            switch (e) {
            case '"': out += '"'; break;
            case '\'': out += '\''; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                // cvt4hex() (-1 unless four hex digits); a leading surrogate followed by "\u" takes a
                // trailing one or is invalid; mod_utf8_encode() refuses what is not a valid code point.
                // The message quotes the escape as written, cut at the token's end.
                const std::optional<unsigned> digits = hex4(s, i);
                long cp = digits ? static_cast<long>(*digits) : -1;
                i += 4;
                if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') {
                    const std::optional<unsigned> trailing = hex4(s, i + 2);
                    if (trailing && *trailing >= 0xdc00 && *trailing <= 0xdfff) {
                        cp = 0x10000 + ((cp & 0x3ff) << 10) + (*trailing & 0x3ff);
                        i += 6;
                    } else {
                        cp = -1;
                    }
                }
                if (!mod_utf8_valid(cp))
                    return fail(fmt::format("{} is not a valid Unicode character", s.substr(escape, i - escape)));
                mod_utf8_append(out, static_cast<unsigned>(cp));
                break;
            }
            default: return fail("invalid escape sequence in string");
            }
        }
        return out;
    }

    const std::vector<Token>& tokens_;
    std::size_t next_ = 0;
    std::optional<std::string> error_;
};

} // namespace

JsonMessage parse_tokens(const std::vector<Token>& tokens)
{
    return Parser(tokens).run();
}

} // namespace viommu::system::monitor
