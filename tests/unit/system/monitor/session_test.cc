// QMP's wire protocol (docs/interop/qmp-spec.txt, QEMU 7.2 monitor/qmp.c and qapi/qmp-dispatch.c),
// one rule per test, against a session with two commands of its own.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "system/monitor/session.h"

using namespace viommu::system::monitor;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

struct Client {
    CommandTable table;
    std::vector<std::string> lines;
    Session session;
    int pings = 0;

    Client()
        : session(table, {{"qemu", {{"major", 7}, {"minor", 2}, {"micro", 0}}}, {"package", "test"}},
                  [this](std::string line) { lines.push_back(std::move(line)); })
    {
        table.add("ping", {{}, false, [this](const json&) -> CommandResult {
                               ++pings;
                               session.event(Event{"PINGED", {{"n", pings}}, {1, 2}});
                               return ordered_json::object();
                           }});
        table.add("echo", {{{"text", ParamType::kString}, {"times", ParamType::kUnsigned, true}}, false,
                           [](const json& a) -> CommandResult { return ordered_json(a["text"]); }});
        session.open();
    }
    // The last answer: events set aside.
    json last() const
    {
        for (auto it = lines.rbegin(); it != lines.rend(); ++it)
            if (const json j = json::parse(*it); !j.contains("event"))
                return j;
        return nullptr;
    }
    json send(const std::string& text)
    {
        session.receive(text);
        return last();
    }
    void negotiate() { send(R"({"execute": "qmp_capabilities"})"); }
};

} // namespace

TEST_CASE("The server greets with its version and the oob capability")
{
    Client c;
    REQUIRE(c.lines.size() == 1);
    CHECK(c.lines[0] == "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": "
                        "\"test\"}, \"capabilities\": [\"oob\"]}}\r\n");
}

TEST_CASE("Before qmp_capabilities no other command runs")
{
    Client c;
    const json r = c.send(R"({"execute": "ping"})");
    CHECK(r["error"]["class"] == "CommandNotFound");
    CHECK(r["error"]["desc"] == "Expecting capabilities negotiation with 'qmp_capabilities'");
    CHECK(c.pings == 0);
    c.negotiate();
    CHECK(c.last() == json::parse(R"({"return": {}})"));
    CHECK(c.send(R"({"execute": "ping"})") == json::parse(R"({"return": {}})"));
}

TEST_CASE("qmp_capabilities a second time is CommandNotFound")
{
    Client c;
    c.negotiate();
    const json r = c.send(R"({"execute": "qmp_capabilities"})");
    CHECK(r["error"]["class"] == "CommandNotFound");
    CHECK(r["error"]["desc"] == "Capabilities negotiation is already complete, command ignored");
}

TEST_CASE("qmp_capabilities checks its arguments before whether negotiation is over")
{
    Client c;
    c.negotiate();
    CHECK(c.send(R"({"execute": "qmp_capabilities", "arguments": {"enable": "oob"}})")["error"]["desc"] ==
          "Invalid parameter type for 'enable', expected: array");
    CHECK(c.send(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["x"]}})")["error"]["desc"] ==
          "Parameter 'null' does not accept value 'x'");
    CHECK(c.send(R"({"execute": "qmp_capabilities", "arguments": {"more": 1}})")["error"]["desc"] ==
          "Parameter 'more' is unexpected");
}

TEST_CASE("qmp_capabilities enables only capabilities that exist")
{
    Client c;
    const json r = c.send(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["bogus"]}})");
    // QEMU 7.2.22's text: input_type_enum() gets no name for a list element.
    CHECK(r["error"]["desc"] == "Parameter 'null' does not accept value 'bogus'");
    CHECK_FALSE(c.session.negotiated());
    CHECK(c.send(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}})").contains("return"));
}

TEST_CASE("An unknown command is CommandNotFound")
{
    Client c;
    c.negotiate();
    const json r = c.send(R"({"execute": "frobnicate"})");
    CHECK(r["error"]["class"] == "CommandNotFound");
    CHECK(r["error"]["desc"] == "The command frobnicate has not been found");
}

TEST_CASE("An argument of the wrong type is a GenericError in the QAPI visitor's words")
{
    Client c;
    c.negotiate();
    json r = c.send(R"({"execute": "echo", "arguments": {"text": 5}})");
    CHECK(r["error"]["class"] == "GenericError");
    CHECK(r["error"]["desc"] == "Invalid parameter type for 'text', expected: string");
    r = c.send(R"({"execute": "echo", "arguments": {"text": "a", "times": -1}})");
    CHECK(r["error"]["desc"] == "Parameter 'times' expects uint64");
}

TEST_CASE("A missing or an unexpected argument is a GenericError")
{
    Client c;
    c.negotiate();
    CHECK(c.send(R"({"execute": "echo"})")["error"]["desc"] == "Parameter 'text' is missing");
    CHECK(c.send(R"({"execute": "echo", "arguments": {"text": "a", "x": 1}})")["error"]["desc"] ==
          "Parameter 'x' is unexpected");
}

TEST_CASE("Bad JSON gets QEMU's parse error, without an id, and the session goes on")
{
    Client c;
    c.negotiate();
    const json r = c.send("{\"execute\": \"ping\", \"id\": 1, @\n");
    CHECK(r == json::parse(R"({"error": {"class": "GenericError", "desc": "JSON parse error, stray '@'"}})"));
    CHECK(c.pings == 0);
    CHECK(c.send("\n{\"execute\": \"ping\"}").contains("return"));
}

TEST_CASE("Input that is not a request is refused in qmp_dispatch's words")
{
    Client c;
    c.negotiate();
    CHECK(c.send("[1]")["error"]["desc"] == "QMP input must be a JSON object");
    CHECK(c.send(R"({"id": 1})")["error"]["desc"] == "QMP input lacks member 'execute'");
    CHECK(c.send(R"({"execute": 1})")["error"]["desc"] == "QMP input member 'execute' must be a string");
    CHECK(c.send(R"({"execute": "ping", "arguments": []})")["error"]["desc"] ==
          "QMP input member 'arguments' must be an object");
    CHECK(c.send(R"({"execute": "ping", "extra": 1})")["error"]["desc"] == "QMP input member 'extra' is unexpected");
    CHECK(c.pings == 0);
}

TEST_CASE("The request's id is echoed in its answer, whatever JSON it is")
{
    Client c;
    CHECK(c.send(R"({"execute": "qmp_capabilities", "id": "neg"})")["id"] == "neg");
    CHECK(c.send(R"({"execute": "echo", "arguments": {"text": "hi"}, "id": {"n": [1, 2]}})") ==
          json::parse(R"({"return": "hi", "id": {"n": [1, 2]}})"));
    CHECK(c.send(R"({"execute": "nope", "id": 7})")["id"] == 7);
}

TEST_CASE("An id too large for a double is echoed as a number that reads back as the same infinity")
{
    Client c;
    c.negotiate();
    // json-parser.c reads an out-of-range number, integer or not, with strtod(): an infinity. QEMU
    // writes it back as "inf", which is not JSON; viommu writes a number out of range (RFC 8259 §6 lets
    // readers limit the range, and nlohmann's refuses it), which a strtod() reader, such as QEMU's own,
    // reads as that infinity.
    for (const std::string& id : {std::string("1e400"), std::string("-1e400"), "1" + std::string(400, '0')}) {
        c.session.receive(R"({"execute": "echo", "arguments": {"text": "x"}, "id": )" + id + "}");
        std::vector<JsonMessage> read_back;
        JsonStream reader([&](JsonMessage m) { read_back.push_back(std::move(m)); });
        reader.feed(c.lines.back());
        REQUIRE(read_back.size() == 1);
        REQUIRE(read_back[0]);
        const json& r = *read_back[0];
        CHECK(r["return"] == "x");
        REQUIRE(r["id"].is_number_float());
        CHECK(std::isinf(r["id"].get<double>()));
        CHECK((r["id"].get<double>() < 0) == (id[0] == '-'));
    }
}

TEST_CASE("exec-oob is refused for a command that does not run out of band")
{
    Client c;
    c.send(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}})");
    CHECK(c.send(R"({"exec-oob": "ping"})")["error"]["desc"] == "The command ping does not support OOB");
    CHECK(c.pings == 0);
}

TEST_CASE("Events have a timestamp and follow the answer of the command that raised them")
{
    Client c;
    c.negotiate();
    const std::size_t before = c.lines.size();
    c.session.receive(R"({"execute": "ping"})");
    REQUIRE(c.lines.size() == before + 2);
    CHECK(json::parse(c.lines[before]) == json::parse(R"({"return": {}})"));
    CHECK(c.lines[before + 1] ==
          "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"PINGED\", \"data\": {\"n\": 1}}\r\n");
}

TEST_CASE("A session still negotiating gets no events")
{
    Client c;
    c.session.event(Event{"X", {}, {1, 2}});
    CHECK(c.lines.size() == 1);
}

TEST_CASE("Event timestamps are the wall clock's")
{
    const Timestamp t = Timestamp::now();
    CHECK(t.seconds > 1600000000);
    CHECK(t.microseconds >= 0);
    CHECK(t.microseconds < 1000000);
}

TEST_CASE("A request cut off by the client's departure is never executed")
{
    Client c;
    c.negotiate();
    c.session.receive(R"({"execute": "pi)");
    c.session.close();
    c.session.receive(R"(ng"})");
    CHECK(c.pings == 0);
}

TEST_CASE("After a halt nothing more is executed")
{
    Client c;
    c.negotiate();
    c.session.halt();
    c.session.receive(R"({"execute": "ping"})");
    CHECK(c.pings == 0);
}
