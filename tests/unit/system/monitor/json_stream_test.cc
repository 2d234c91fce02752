// How bytes become QMP messages: QEMU 7.2's JSON lexer and streamer, rule by rule.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "system/monitor/json_stream.h"

using namespace viommu::system::monitor;

namespace {

struct Collected {
    std::vector<JsonMessage> messages;
    JsonStream stream;
    explicit Collected(JsonLimits limits = {})
        : stream([this](JsonMessage m) { messages.push_back(std::move(m)); }, limits)
    {
    }
    std::string error(std::size_t i) const { return messages.at(i) ? "" : messages.at(i).error(); }
};

} // namespace

TEST_CASE("A message ends where its braces balance, whatever the chunks it arrives in")
{
    Collected c;
    c.stream.feed("{\"execute\": \"qu");
    CHECK(c.messages.empty());
    CHECK(c.stream.pending());
    c.stream.feed("it\"}{\"a\": [1, 2]}");
    REQUIRE(c.messages.size() == 2);
    CHECK((*c.messages[0])["execute"] == "quit");
    CHECK((*c.messages[1])["a"][1] == 2);
}

TEST_CASE("A top-level scalar is a message of its own")
{
    Collected c;
    c.stream.feed("42 \"x\"");
    REQUIRE(c.messages.size() == 2);
    CHECK(*c.messages[0] == 42);
    CHECK(*c.messages[1] == "x");
}

TEST_CASE("A character no token starts with is a stray, and what was pending goes with it")
{
    Collected c;
    c.stream.feed("{\"execute\": @");
    REQUIRE(c.messages.size() == 1);
    CHECK(c.error(0) == "JSON parse error, stray '@'");
    CHECK_FALSE(c.stream.pending());
}

TEST_CASE("After a lexical error input is skipped up to a structural character")
{
    Collected c;
    c.stream.feed("@garbage \"x\" 12{\"a\": 1}");
    REQUIRE(c.messages.size() == 2);
    CHECK(c.error(0) == "JSON parse error, stray '@'");
    CHECK((*c.messages[1])["a"] == 1);
}

TEST_CASE("A control character other than tab resynchronises after an error, and is itself an error")
{
    Collected c;
    c.stream.feed("@xyz\x01{}");
    REQUIRE(c.messages.size() == 3);
    CHECK(c.error(0) == "JSON parse error, stray '@'");
    CHECK(c.error(1) == "JSON parse error, stray '\x01'");
    CHECK(c.messages[2]->is_object());
}

TEST_CASE("An unknown keyword is the parser's error")
{
    Collected c;
    c.stream.feed("{\"a\": tru}");
    REQUIRE(c.messages.size() == 1);
    CHECK(c.error(0) == "JSON parse error, invalid keyword 'tru'");
}

TEST_CASE("A closing brace with nothing open is a message that expects a value")
{
    Collected c;
    c.stream.feed("}");
    REQUIRE(c.messages.size() == 1);
    CHECK(c.error(0) == "JSON parse error, expecting value");
}

TEST_CASE("Object syntax errors are QEMU's parser messages")
{
    Collected c;
    c.stream.feed("{1: 2}{\"a\" 1}{\"a\": 1 \"b\": 2}[1 2]{\"a\": 1, \"a\": 2}");
    REQUIRE(c.messages.size() == 5);
    CHECK(c.error(0) == "JSON parse error, key is not a string in object");
    CHECK(c.error(1) == "JSON parse error, missing : in object pair");
    CHECK(c.error(2) == "JSON parse error, expected separator in dict");
    CHECK(c.error(3) == "JSON parse error, expected separator in list");
    CHECK(c.error(4) == "JSON parse error, duplicate key");
}

TEST_CASE("Strings take QEMU's escapes and single quotes, and must be UTF-8")
{
    Collected c;
    c.stream.feed("['a\\'b', \"\\u00e9\\ud83d\\ude00\", \"\\q\", \"\xc3\x28\", \"\\u0000\"]");
    REQUIRE(c.messages.size() == 1);
    CHECK(c.error(0) == "JSON parse error, invalid escape sequence in string");
    c.messages.clear();
    c.stream.feed("['a\\'b', \"\\u00e9\\ud83d\\ude00\"]");
    REQUIRE(c.messages.size() == 1);
    CHECK((*c.messages[0])[0] == "a'b");
    CHECK((*c.messages[0])[1] == "\xc3\xa9\xf0\x9f\x98\x80");
    c.messages.clear();
    c.stream.feed("\"\xc3\x28\" \"\xef\xbf\xbf\"");
    REQUIRE(c.messages.size() == 2);
    CHECK(c.error(0) == "JSON parse error, invalid UTF-8 sequence in string");
    CHECK(c.error(1) == "JSON parse error, invalid UTF-8 sequence in string"); // noncharacter U+FFFF
}

// json-parser.c since QEMU 3.1 (mod_utf8_encode() for \uXXXX); the texts are QEMU 7.2.22's.
TEST_CASE("A \\u escape that is not a valid code point is refused, quoted as written")
{
    Collected c;
    c.stream.feed("\"\\u12G4\" \"\\ud800x\" \"\\ud800\\u0041\" \"\\udc00\" \"\\uFFFF\" \"\\ufdd0\" \"\\u1\"");
    REQUIRE(c.messages.size() == 7);
    CHECK(c.error(0) == "JSON parse error, \\u12G4 is not a valid Unicode character");
    CHECK(c.error(1) == "JSON parse error, \\ud800 is not a valid Unicode character");
    CHECK(c.error(2) == "JSON parse error, \\ud800 is not a valid Unicode character");
    CHECK(c.error(3) == "JSON parse error, \\udc00 is not a valid Unicode character");
    CHECK(c.error(4) == "JSON parse error, \\uFFFF is not a valid Unicode character");
    CHECK(c.error(5) == "JSON parse error, \\ufdd0 is not a valid Unicode character");
    CHECK(c.error(6) == "JSON parse error, \\u1\" is not a valid Unicode character");
}

TEST_CASE("U+0000 is a character of a string, escaped or as modified UTF-8's C0 80")
{
    Collected c;
    c.stream.feed("\"a\\u0000b\" \"\xc0\x80\"");
    REQUIRE(c.messages.size() == 2);
    REQUIRE(c.messages[0]);
    CHECK(*c.messages[0] == std::string("a\0b", 3));
    REQUIRE(c.messages[1]);
    CHECK(*c.messages[1] == std::string("\0", 1));
}

TEST_CASE("Numbers: int64 when they fit, else uint64, else double; a leading zero is a stray")
{
    Collected c;
    c.stream.feed("[-5, 18446744073709551615, 1e400, 0.5e-1] 012");
    REQUIRE(c.messages.size() == 2);
    const auto& a = *c.messages[0];
    CHECK(a[0].get<int64_t>() == -5);
    CHECK(a[1].is_number_unsigned());
    CHECK(a[2].is_number_float());
    CHECK(a[3].get<double>() == Approx(0.05));
    CHECK(c.error(1) == "JSON parse error, stray '01'");
}

TEST_CASE("A message larger than the bound is refused, and the stream goes on")
{
    JsonLimits limits;
    limits.max_bytes = 64;
    Collected c(limits);
    c.stream.feed("{\"a\": \"" + std::string(100, 'x') + "\"}");
    REQUIRE_FALSE(c.messages.empty());
    CHECK(c.error(0) == "JSON token size limit exceeded");
    c.messages.clear();
    c.stream.feed("\n{\"b\": 1}");
    REQUIRE_FALSE(c.messages.empty());
    CHECK((*c.messages.back())["b"] == 1);
}

TEST_CASE("Nesting deeper than the bound is refused")
{
    JsonLimits limits;
    limits.max_nesting = 8;
    Collected c(limits);
    c.stream.feed(std::string(9, '['));
    REQUIRE(c.messages.size() == 1);
    CHECK(c.error(0) == "JSON nesting depth limit exceeded");
}

TEST_CASE("Too many tokens in one message are refused")
{
    JsonLimits limits;
    limits.max_tokens = 10;
    Collected c(limits);
    c.stream.feed("[1,2,3,4,5,6,7]");
    REQUIRE_FALSE(c.messages.empty());
    CHECK(c.error(0) == "JSON token count limit exceeded");
}

TEST_CASE("A reset drops a half-received message")
{
    Collected c;
    c.stream.feed("{\"execute\": \"quit\"");
    c.stream.reset();
    c.stream.feed("}");
    REQUIRE(c.messages.size() == 1);
    CHECK(c.error(0) == "JSON parse error, expecting value");
}
