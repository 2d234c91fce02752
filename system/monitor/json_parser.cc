// QEMU 7.2's qobject/json-parser.c, rule for rule: objects, arrays, the three keywords, strings with
// QEMU's escapes (\' too, as its lexer accepts single-quoted strings), integers as int64 when they fit,
// else uint64, else double. The first error found is the one reported (parse_error() keeps it).
#include "system/monitor/json_parser.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

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

    static void append_utf8(std::string& out, unsigned cp)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | cp >> 6);
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | cp >> 12);
            out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | cp >> 18);
            out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
            out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    // The length of the UTF-8 sequence at s[at], or 0 when it is not one (overlong forms, surrogates and
    // code points past U+10FFFF included).
    static std::size_t utf8_length(const std::string& s, std::size_t at)
    {
        const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
        const unsigned c = b(at);
        std::size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0 || at + n > s.size())
            return 0;
        unsigned cp = n == 1 ? c : c & (0x7f >> n);
        for (std::size_t i = 1; i < n; ++i) {
            if ((b(at + i) & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (b(at + i) & 0x3f);
        }
        static constexpr unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        return n;
    }

    json parse_string(const Token& t)
    {
        const std::string& s = t.text;
        const char quote = s[0];
        std::string out;
        for (std::size_t i = 1; i < s.size() && s[i] != quote;) {
            if (s[i] != '\\') {
                const std::size_t n = utf8_length(s, i);
                if (n == 0)
                    return fail("invalid UTF-8 sequence in string");
                out.append(s, i, n);
                i += n;
                continue;
            }
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
                std::optional<unsigned> cp = hex4(s, i);
                if (!cp)
                    return fail("invalid hex escape sequence in string");
                i += 4;
                if (*cp >= 0xd800 && *cp <= 0xdbff) {
                    const std::optional<unsigned> low =
                        i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s, i + 2) : std::nullopt;
                    if (!low || *low < 0xdc00 || *low > 0xdfff)
                        return fail("missing \\uXXXX escape for trailing surrogate");
                    cp = 0x10000 + ((*cp - 0xd800) << 10) + (*low - 0xdc00);
                    i += 6;
                } else if (*cp >= 0xdc00 && *cp <= 0xdfff) {
                    return fail("leading surrogate missing");
                }
                // QEMU's strings are C strings: a NUL cannot be one of their characters.
                if (*cp == 0)
                    return fail("\\u0000 is not supported");
                append_utf8(out, *cp);
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
