#include "system/monitor/qmp_text.h"

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
