// The facts table: parsing, checking, and resolving a kernel version to present/absent with the commit
// that decides.
#include <catch2/catch.hpp>

#include "guest-model/profiles/facts.h"
#include "tests/unit/guest-model/profiles/decide.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;


using viommu::test::decide;

namespace {

constexpr const char* kMatchDefer = "driver_core.match_defer_stops_attach";

std::string parse_error(const std::string& json)
{
    auto table = FactsTable::parse(json, "test.json");
    REQUIRE_FALSE(table);
    return table.error();
}

const std::string kGoodMainline =
    R"("mainline": {"commit": "25e9fbf0fd38", "subject": "s", "release": "6.0"})";

} // namespace

TEST_CASE("the built-in facts table parses and has the driver-core fix", "[unit][profiles]")
{
    const Behaviour* b = FactsTable::builtin().find(kMatchDefer);
    REQUIRE(b != nullptr);
    CHECK(b->commit == "25e9fbf0fd38868a429feabc38abebfc6dbf6542");
    CHECK(b->release.str() == "6.0");
    CHECK(b->stable.size() == 7);
}

TEST_CASE("25e9fbf0fd38 is present from v6.0 in mainline", "[unit][profiles]")
{
    const Decision d = decide(kMatchDefer, "6.0");
    CHECK(d.present);
    CHECK(d.commit == "25e9fbf0fd38868a429feabc38abebfc6dbf6542");
    CHECK(d.why == "in mainline since v6.0 (25e9fbf0fd38868a429feabc38abebfc6dbf6542)");
    CHECK(decide(kMatchDefer, "6.12").present);
    CHECK(decide(kMatchDefer, "6.1.192").present);
}

TEST_CASE("a stable point release has the fix from its backport on, citing the backport", "[unit][profiles]")
{
    CHECK_FALSE(decide(kMatchDefer, "5.15.65").present);
    const Decision d = decide(kMatchDefer, "5.15.66");
    CHECK(d.present);
    CHECK(d.commit == "253ec5fb84057c681a30d20314b8662fe424e3df");
    CHECK(decide(kMatchDefer, "5.19.8").present);
    CHECK_FALSE(decide(kMatchDefer, "5.19.7").present);
    CHECK(decide(kMatchDefer, "5.10.142").present);
    CHECK_FALSE(decide(kMatchDefer, "5.10.0").present);
}

TEST_CASE("4.19 got the fix by the manual backport in 4.19.258", "[unit][profiles]")
{
    const Decision before = decide(kMatchDefer, "4.19.257");
    CHECK_FALSE(before.present);
    CHECK(before.why.find("predates the 4.19.y backport in v4.19.258") != std::string::npos);
    const Decision after = decide(kMatchDefer, "4.19.258");
    CHECK(after.present);
    CHECK(after.commit == "ca0d26cc15fd2931b407f6fee249743fea8e8138");
}

TEST_CASE("a tree without a backport resolves to absent and says so", "[unit][profiles]")
{
    const Decision d = decide(kMatchDefer, "5.18.19");
    CHECK_FALSE(d.present);
    CHECK(d.why == "not in v5.18.19: mainline since v6.0 (25e9fbf0fd38868a429feabc38abebfc6dbf6542), no 5.18.y "
                   "backport in the facts table");
}

TEST_CASE("a backport whose id is unknown still decides, and says the id is unknown", "[unit][profiles]")
{
    const Decision d = decide("driver_core.match_error_continues_driver_attach", "6.1.4");
    CHECK(d.present);
    CHECK(d.commit == "27c0d217340e47ec995557f61423ef415afba987");
    CHECK(d.why.find("backport id not established") != std::string::npos);
    CHECK_FALSE(decide("driver_core.match_error_continues_driver_attach", "6.1.3").present);
}

TEST_CASE("a facts file that is not JSON is refused with its name and position", "[unit][profiles]")
{
    const std::string e = parse_error("{\n  \"behaviours\": {,}\n}");
    CHECK(e.starts_with("test.json: "));
    CHECK(e.find("line 2") != std::string::npos);
}

TEST_CASE("a misspelt field in the facts table is an error, not ignored", "[unit][profiles]")
{
    const std::string e =
        parse_error(R"({"behaviours": {"x.y": {"summary": "s", )" + kGoodMainline + R"(, "stabel": []}}})");
    CHECK(e == "test.json: behaviours.x.y.stabel: unknown field (expected one of: summary, mainline, stable, notes)");
}

TEST_CASE("a commit id must be 12 to 40 lowercase hex digits", "[unit][profiles]")
{
    const std::string e = parse_error(
        R"({"behaviours": {"x.y": {"summary": "s", "mainline": {"commit": "25e9fbf", "subject": "s", "release": "6.0"}}}})");
    CHECK(e == "test.json: behaviours.x.y.mainline.commit: \"25e9fbf\" is not a commit id (12 to 40 lowercase hex "
               "digits)");
}

TEST_CASE("a stable entry must be a point release older than mainline", "[unit][profiles]")
{
    const std::string e = parse_error(R"({"behaviours": {"x.y": {"summary": "s", )" + kGoodMainline +
                                      R"(, "stable": [{"release": "6.1.3", "commit": "253ec5fb8405"}]}}})");
    CHECK(e == "test.json: behaviours.x.y.stable[0].release: 6.1.3 is not a stable point release older than mainline "
               "v6.0");
}

TEST_CASE("a stable entry needs its commit or the evidence for its release", "[unit][profiles]")
{
    const std::string e = parse_error(R"({"behaviours": {"x.y": {"summary": "s", )" + kGoodMainline +
                                      R"(, "stable": [{"release": "5.15.66"}]}}})");
    CHECK(e == "test.json: behaviours.x.y.stable[0]: needs a \"commit\" or, when the backport's id is unknown, an "
               "\"evidence\"");
}

TEST_CASE("one stable tree cannot have two backports of the same behaviour", "[unit][profiles]")
{
    const std::string e = parse_error(
        R"({"behaviours": {"x.y": {"summary": "s", )" + kGoodMainline +
        R"(, "stable": [{"release": "5.15.66", "commit": "253ec5fb8405"}, {"release": "5.15.70", "commit": "253ec5fb8406"}]}}})");
    CHECK(e == "test.json: behaviours.x.y.stable[1]: a second backport to the 5.15 tree");
}

TEST_CASE("a mainline commit whose id was not established may be left out when release_evidence is given",
          "[unit][profiles]")
{
    for (const char* commit : {"", R"("commit": "", )"}) {
        INFO(commit);
        auto table = FactsTable::parse(std::string(R"({"behaviours": {"x.y": {"summary": "s", "mainline": {)") +
                                           commit + R"("subject": "s", "release": "5.4", "release_evidence": "the v5.4 pull"},
                 "stable": [{"release": "5.3.7", "commit": "253ec5fb8405"}]}}})",
                                       "test.json");
        REQUIRE(table);
        const Behaviour* b = table->find("x.y");
        REQUIRE(b != nullptr);
        CHECK(b->commit.empty());

        const Decision in = FactsTable::decide(*b, *KernelVersion::parse("5.10"));
        CHECK(in.present);
        CHECK(in.commit.empty());
        CHECK(in.why == "in mainline since v5.4 (commit id not established: the v5.4 pull)");

        const Decision out = FactsTable::decide(*b, *KernelVersion::parse("4.19.1"));
        CHECK_FALSE(out.present);
        CHECK(out.why == "not in v4.19.1: mainline since v5.4 (commit id not established: the v5.4 pull), no 4.19.y "
                         "backport in the facts table");

        const Decision backport = FactsTable::decide(*b, *KernelVersion::parse("5.3.7"));
        CHECK(backport.present);
        CHECK(backport.commit == "253ec5fb8405");
        CHECK(backport.why == "backported to 5.3.y in v5.3.7 (253ec5fb8405; upstream commit id not established)");
    }
}

TEST_CASE("a mainline entry with neither its commit nor release_evidence is refused", "[unit][profiles]")
{
    const std::string expected = "test.json: behaviours.x.y.mainline: needs a \"commit\" or, when its id was not "
                                 "established, a \"release_evidence\"";
    CHECK(parse_error(R"({"behaviours": {"x.y": {"summary": "s", "mainline": {"subject": "s", "release": "5.4"}}}})") ==
          expected);
    CHECK(parse_error(R"({"behaviours": {"x.y": {"summary": "s", "mainline": {"commit": "", "subject": "s",
          "release": "5.4", "release_evidence": ""}}}})") == expected);
}
