// Text from inputs shown on a terminal: control bytes are escaped, nothing else changes.
#include <catch2/catch.hpp>

#include <string>

#include "base/printable.h"

using viommu::printable;
using viommu::printable_lines;

TEST_CASE("printable text passes unchanged, UTF-8 included", "[unit][printable]")
{
    CHECK(printable("guest-1 (<hostdev> 0000:65:00.0) é") == "guest-1 (<hostdev> 0000:65:00.0) é");
}

TEST_CASE("a NUL is shown as \\x00 and does not cut the text short", "[unit][printable]")
{
    CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
}

TEST_CASE("terminal escapes, carriage returns and DEL are shown, not obeyed", "[unit][printable]")
{
    CHECK(printable("\x1b[31mred\r\x7f") == "\\x1b[31mred\\x0d\\x7f");
}

TEST_CASE("one line's text escapes newlines; multi-line text keeps them", "[unit][printable]")
{
    CHECK(printable("a\nb\tc") == "a\\x0ab\\x09c");
    CHECK(printable_lines("a\nb\tc") == "a\nb\\x09c");
}
