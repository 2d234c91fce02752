#include "system/monitor/qmp_text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string_view>

#include <boost/container/small_vector.hpp>
#include <fmt/format.h>

#include "system/monitor/mod_utf8.h"
#include "system/monitor/qdict_order.h"

namespace viommu::system::monitor {

namespace {

// json-writer.c, quoted_str(): the six short escapes, everything outside printable ASCII as \uXXXX in
// upper case (a UTF-16 surrogate pair beyond the BMP), and an invalid sequence as U+FFFD.
void quoted(std::string_view s, std::string& out)
{
    // Printable ASCII but for the quote and the backslash stands for itself: each run of it is copied
    // whole, not a code point at a time (most of every error message).
    const auto plain = [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; };
    out += '"';
    auto to = std::back_inserter(out);
    for (std::size_t at = 0, used = 0; at < s.size(); at += used) {
        if (plain(s[at])) {
            used = static_cast<std::size_t>(std::find_if_not(s.begin() + at, s.end(), plain) - (s.begin() + at));
            out.append(s, at, used);
            continue;
        }
        int cp = mod_utf8_codepoint(s.substr(at), used);
        switch (cp) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            // Not plain: a control character, DEL, or a code point beyond ASCII (no sequence but C0 80,
            // U+0000, decodes to ASCII: mod_utf8_codepoint() refuses overlong forms).
            if (cp < 0)
                cp = 0xfffd;
            if (cp > 0xffff)
                fmt::format_to(to, "\\u{:04X}\\u{:04X}", 0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
            else
                fmt::format_to(to, "\\u{:04X}", cp);
        }
    }
    out += '"';
}

void write(const nlohmann::ordered_json& v, std::string& out);

// An object's members in QDict order (qdict_order.h). The objects here are built in QAPI schema order,
// the order in which QEMU's output visitor inserts them; that decides between two members of one bucket.
void write_object(const nlohmann::ordered_json::object_t& object, std::string& out)
{
    struct Member {
        unsigned bucket;
        std::size_t inserted;
        const nlohmann::ordered_json::object_t::value_type* pair;
    };
    boost::container::small_vector<Member, 16> members;
    for (const auto& pair : object)
        members.push_back({qdict_bucket(pair.first), members.size(), &pair});
    std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
        return a.bucket != b.bucket ? a.bucket < b.bucket : a.inserted > b.inserted;
    });
    out += '{';
    const char* separator = "";
    for (const Member& m : members) {
        out += separator;
        separator = ", ";
        quoted(m.pair->first, out);
        out += ": ";
        write(m.pair->second, out);
    }
    out += '}';
}

void write(const nlohmann::ordered_json& v, std::string& out)
{
    using Type = nlohmann::ordered_json::value_t;
    switch (v.type()) {
    case Type::object: write_object(v.get_ref<const nlohmann::ordered_json::object_t&>(), out); return;
    case Type::array: {
        out += '[';
        const char* separator = "";
        for (const auto& element : v) {
            out += separator;
            separator = ", ";
            write(element, out);
        }
        out += ']';
        return;
    }
    case Type::string: quoted(v.get_ref<const std::string&>(), out); return;
    case Type::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case Type::number_integer: fmt::format_to(std::back_inserter(out), "{}", v.get<int64_t>()); return;
    case Type::number_unsigned: fmt::format_to(std::back_inserter(out), "{}", v.get<uint64_t>()); return;
    case Type::number_float: {
        const double d = v.get<double>();
        // A number too large for a double reads as an infinity (json-parser.c's strtod(), with no range
        // check), and a request's id is echoed as it was read. QEMU then writes "inf" (json_writer_double()'s
        // "%.17g", with a FIXME that this is not JSON). A number out of range is valid JSON that every
        // strtod()-based reader, QEMU's and the client's, reads back as that same infinity.
        if (std::isinf(d))
            out += d > 0 ? "1e999" : "-1e999";
        else
            fmt::format_to(std::back_inserter(out), "{:.17g}", d);
        return;
    }
    case Type::null:
    case Type::binary:
    case Type::discarded: break;
    }
    out += "null";
}

} // namespace

std::string qmp_text(const nlohmann::ordered_json& value)
{
    std::string out;
    write(value, out);
    // qmp_send_response() ends the message with a newline, which monitor_puts() (monitor/monitor.c)
    // writes as CR LF, as it writes every newline of every monitor.
    out += "\r\n";
    return out;
}

} // namespace viommu::system::monitor
