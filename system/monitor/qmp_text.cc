#include "system/monitor/qmp_text.h"

#include <cmath>

namespace viommu::system::monitor {

namespace {

void write(const nlohmann::ordered_json& v, std::string& out)
{
    if (v.is_object()) {
        out += '{';
        bool first = true;
        for (const auto& [key, member] : v.items()) {
            out += first ? "" : ", ";
            first = false;
            out += nlohmann::ordered_json(key).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
            out += ": ";
            write(member, out);
        }
        out += '}';
    } else if (v.is_array()) {
        out += '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            out += i ? ", " : "";
            write(v[i], out);
        }
        out += ']';
    } else if (v.is_number_float() && std::isinf(v.get<double>())) {
        // A number too large for a double reads as an infinity (json-parser.c's strtod(), with no range
        // check), and a request's id is echoed as it was read. QEMU then writes "inf" (json-writer.c,
        // json_writer_double(): "%.17g", with a FIXME that this is not JSON); nlohmann would write null,
        // another id. A number out of range is valid JSON that every strtod()-based reader, QEMU's and
        // the client's, reads back as that same infinity.
        out += v.get<double>() > 0 ? "1e999" : "-1e999";
    } else {
        // Non-ASCII as \uXXXX escapes, as QEMU's to_json() writes it; invalid UTF-8 cannot reach here
        // (the parser refuses it) but would become U+FFFD rather than an exception.
        out += v.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    }
}

} // namespace

std::string qmp_text(const nlohmann::ordered_json& value)
{
    std::string out;
    write(value, out);
    out += '\n';
    return out;
}

} // namespace viommu::system::monitor
