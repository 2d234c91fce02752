// Text from inputs (script words, profile and guest names, file names, library error messages) printed
// on a terminal: a control byte would cut the line short (NUL through printf's %s) or drive the terminal
// (ESC sequences, a carriage return that hides what precedes it, a newline that forges a line). Such
// bytes are shown as \xNN, as `ls -b` and Python's repr() show them; everything else passes unchanged.
#pragma once

#include <string>
#include <string_view>

namespace viommu {

// One line's worth of text: every control byte (0x00-0x1f, 0x7f) escaped, newlines included.
std::string printable(std::string_view text);

// Text that may span lines (a library's multi-line message): the same, but '\n' is kept.
std::string printable_lines(std::string_view text);

} // namespace viommu
