// The text of QMP's answers, byte for byte as QEMU 7.2 writes it: qobject/json-writer.c (quoted_str(),
// json_writer_int64() / _uint64() / _double(), compact separators), members in qobject/qdict.c's order,
// lines ended as monitor_puts() ends them.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "system/monitor/qmp_text.h"

using namespace viommu::system::monitor;
using nlohmann::ordered_json;

namespace {

std::string string_text(const std::string& s)
{
    return qmp_text(ordered_json(s));
}

} // namespace

TEST_CASE("A message is one line, ended by CR LF as monitor_puts() ends every line")
{
    const std::string text = qmp_text({{"return", ordered_json::object()}});
    CHECK(text == "{\"return\": {}}\r\n");
    CHECK(text.find('\n') == text.size() - 1);
}

TEST_CASE("': ' after a key, ', ' between members and elements")
{
    const ordered_json v = {{"b", {1, true, nullptr}}, {"a", ordered_json::object()}, {"c", ordered_json::array()}};
    CHECK(qmp_text(v) == "{\"a\": {}, \"b\": [1, true, null], \"c\": []}\r\n");
}

// The expected texts are QEMU 7.2.22's (Debian 12), from qemu-system-x86_64 -machine none -qmp stdio.
TEST_CASE("Members come out in QDict order: by tdb_hash() bucket, the last inserted first within one")
{
    // query-status: StatusInfo's members inserted in schema order; "singlestep" and "status" share a bucket.
    CHECK(qmp_text({{"running", true}, {"singlestep", false}, {"status", "running"}}) ==
          "{\"status\": \"running\", \"singlestep\": false, \"running\": true}\r\n");
    // VersionTriple: "minor" and "micro" share a bucket.
    CHECK(qmp_text({{"major", 7}, {"minor", 2}, {"micro", 22}}) == "{\"micro\": 22, \"minor\": 2, \"major\": 7}\r\n");
    // An answer with an id, whatever order it was built in.
    CHECK(qmp_text({{"error", {{"class", "GenericError"}, {"desc", "d"}}}, {"id", 1}}) ==
          "{\"id\": 1, \"error\": {\"class\": \"GenericError\", \"desc\": \"d\"}}\r\n");
    CHECK(qmp_text({{"id", 1}, {"return", ordered_json::object()}}) == "{\"return\": {}, \"id\": 1}\r\n");
    CHECK(qmp_text({{"f", 1}, {"g", 2}, {"h", 3}, {"i", 4}, {"n", 5}, {"s", 6}}) ==
          "{\"i\": 4, \"n\": 5, \"s\": 6, \"f\": 1, \"g\": 2, \"h\": 3}\r\n");
    CHECK(qmp_text({{"timestamp", {{"seconds", 1}, {"microseconds", 2}}}, {"event", "SHUTDOWN"}, {"data", {{"guest", false}, {"reason", "host-qmp-quit"}}}}) ==
          "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}}\r\n");
}

TEST_CASE("quoted_str() escapes quote, backslash and the five control characters with a short form")
{
    CHECK(string_text("\"\\\b\f\n\r\t/") == "\"\\\"\\\\\\b\\f\\n\\r\\t/\"\r\n");
}

TEST_CASE("quoted_str() writes other control characters, DEL and non-ASCII as \\uXXXX in upper case")
{
    CHECK(string_text(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001F\\u007F\"\r\n");
    CHECK(string_text("caf\xc3\xa9 \xe2\x82\xac") == "\"caf\\u00E9 \\u20AC\"\r\n");
    CHECK(string_text(std::string("a\0b", 3)) == "\"a\\u0000b\"\r\n");
}

TEST_CASE("quoted_str() writes a code point beyond the BMP as a UTF-16 surrogate pair")
{
    CHECK(string_text("\xf0\x9f\x98\x80") == "\"\\uD83D\\uDE00\"\r\n");
    CHECK(string_text("\xf4\x8f\xbf\xbd") == "\"\\uDBFF\\uDFFD\"\r\n");
}

TEST_CASE("mod_utf8_codepoint()'s invalid sequences are written as U+FFFD, one for each")
{
    CHECK(string_text("\xc3") == "\"\\uFFFD\"\r\n");              // cut short
    CHECK(string_text("\xc3x") == "\"\\uFFFDx\"\r\n");            // continuation missing: x is kept
    CHECK(string_text("\x80\xbf") == "\"\\uFFFD\\uFFFD\"\r\n");   // stray continuation bytes
    CHECK(string_text("\xfe\xff") == "\"\\uFFFD\\uFFFD\"\r\n");   // impossible bytes
    CHECK(string_text("\xc1\x81") == "\"\\uFFFD\"\r\n");          // overlong
    CHECK(string_text("\xed\xa0\x80") == "\"\\uFFFD\"\r\n");      // a surrogate
    CHECK(string_text("\xef\xbf\xbe") == "\"\\uFFFD\"\r\n");      // noncharacter U+FFFE
    CHECK(string_text("\xef\xb7\x90") == "\"\\uFFFD\"\r\n");      // noncharacter U+FDD0
    CHECK(string_text("\xf4\x90\x80\x80") == "\"\\uFFFD\"\r\n");  // beyond U+10FFFF
    CHECK(string_text("\xc0\x80") == "\"\\u0000\"\r\n");          // modified UTF-8's U+0000
}

TEST_CASE("Integers are printed in full, signed and unsigned")
{
    CHECK(qmp_text(ordered_json(std::numeric_limits<int64_t>::min())) == "-9223372036854775808\r\n");
    CHECK(qmp_text(ordered_json(std::numeric_limits<uint64_t>::max())) == "18446744073709551615\r\n");
}

TEST_CASE("json_writer_double() prints a double with %.17g")
{
    for (const double d : {0.1, 1.0, -0.0, 1.5, 1e300, 2.5e-308, 123456789.125, 1e17, 4.9e-324}) {
        char expected[64];
        std::snprintf(expected, sizeof expected, "%.17g\r\n", d);
        CHECK(qmp_text(ordered_json(d)) == expected);
    }
    CHECK(qmp_text(ordered_json(0.1)) == "0.10000000000000001\r\n");
    CHECK(qmp_text(ordered_json(1.0)) == "1\r\n");
}
