// One --trace argument in QEMU's forms (`-trace [[enable=]PATTERN][,events=FILE][,file=FILE]`, QEMU's
// docs/devel/tracing.rst): a pattern to enable, a file of patterns, and where the lines go.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"

namespace viommu::trace {

struct TraceOption {
    std::vector<std::string> patterns;    // PATTERN or enable=PATTERN
    std::vector<std::string> events_files; // events=FILE: one pattern per line
    std::optional<std::string> file;       // file=FILE: the trace's output instead of stderr
};

// Parses "PATTERN", "enable=PATTERN", "events=FILE", "file=FILE", comma-separated; why not.
[[nodiscard]] Expected<TraceOption, std::string> parse_trace_option(std::string_view text);

// An events file's patterns, as QEMU reads one: a pattern per line, blank lines and lines starting with
// '#' skipped; a pattern starting with '-' disables what it matches.
struct EventsFileLine {
    std::string pattern;
    bool disable = false;
};
std::vector<EventsFileLine> parse_events_file(std::string_view text);

} // namespace viommu::trace
