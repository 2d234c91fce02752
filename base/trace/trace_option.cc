#include "base/trace/trace_option.h"

#include <fmt/format.h>

#include "base/text.h"

namespace viommu::trace {

Expected<TraceOption, std::string> parse_trace_option(std::string_view text)
{
    TraceOption out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = text.find(',', start);
        const std::string_view item =
            text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        if (item.empty())
            return unexpected(fmt::format("empty item in trace option '{}'", text));
        const std::size_t eq = item.find('=');
        const std::string_view key = eq == std::string_view::npos ? std::string_view() : item.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? item : item.substr(eq + 1);
        if (eq != std::string_view::npos && value.empty())
            return unexpected(fmt::format("'{}=' needs a value", key));
        if (eq == std::string_view::npos || key == "enable")
            out.patterns.emplace_back(value);
        else if (key == "events")
            out.events_files.emplace_back(value);
        else if (key == "file") {
            if (out.file)
                return unexpected(fmt::format("file= given twice in trace option '{}'", text));
            out.file = std::string(value);
        } else
            return unexpected(fmt::format("unknown trace option '{}' (QEMU's forms: PATTERN, enable=PATTERN, "
                                          "events=FILE, file=FILE)",
                                          key));
    }
    return out;
}

std::vector<EventsFileLine> parse_events_file(std::string_view text)
{
    std::vector<EventsFileLine> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        const std::string_view line = trim_blanks(text.substr(start, end - start));
        start = end + 1;
        if (line.empty() || line.front() == '#')
            continue;
        if (line.front() == '-')
            out.push_back({std::string(trim_blanks(line.substr(1))), true});
        else
            out.push_back({std::string(line), false});
    }
    return out;
}

} // namespace viommu::trace
