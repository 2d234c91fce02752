// The cost table a user gives (--workload-costs FILE): the costs it names replace the defaults; anything
// that is not a known key with a finite cost of 0 or more is refused.
#include <catch2/catch.hpp>

#include "system/workload/cost_table.h"

using namespace viommu::system::workload;

namespace {
std::string refused(const std::string& json)
{
    const auto t = parse_cost_table(json);
    REQUIRE_FALSE(t);
    return t.error();
}
} // namespace

TEST_CASE("A cost file replaces the costs it names and keeps the others")
{
    const auto t = parse_cost_table(R"({"kick_ns": 5000, "io_ns": {"disk-4k-randread": 60000}})");
    REQUIRE(t);
    CostTable want;
    want.kick_ns = 5000;
    want.io_ns["disk-4k-randread"] = 60000;
    CHECK(*t == want);
    CHECK(t->io("disk-4k-randread") == 60000);
    CHECK(t->io("net-1500") == 0);
}

TEST_CASE("An empty object is the built-in table")
{
    const auto t = parse_cost_table("{}");
    REQUIRE(t);
    CHECK(*t == CostTable{});
}

TEST_CASE("An unknown key is refused, naming the known ones")
{
    const std::string why = refused(R"({"kick_us": 5})");
    CHECK(why.find("unknown key \"kick_us\"") != std::string::npos);
    CHECK(why.find("kick_ns") != std::string::npos);
}

TEST_CASE("A negative cost is refused")
{
    CHECK(refused(R"({"sync_ns": -1})") == "sync_ns: -1 is not a cost (a number of nanoseconds, 0 or more)");
}

TEST_CASE("A cost that is not a number is refused, a boolean included")
{
    CHECK(refused(R"({"kick_ns": "5000"})") == "kick_ns: \"5000\" is not a number");
    CHECK(refused(R"({"kick_ns": true})") == "kick_ns: true is not a number");
    CHECK(refused(R"({"kick_ns": null})") == "kick_ns: null is not a number");
}

TEST_CASE("io_ns names patterns that exist, with costs")
{
    CHECK(refused(R"({"io_ns": {"disk-1m": 5}})").find("unknown pattern \"disk-1m\"") != std::string::npos);
    CHECK(refused(R"({"io_ns": {"net-1500": -3}})") == "io_ns.net-1500: -3 is not a cost (a number of nanoseconds, 0 or more)");
    CHECK(refused(R"({"io_ns": 5})") == "io_ns: must be an object of pattern names and nanoseconds");
}

TEST_CASE("Text that is not one JSON object is refused")
{
    CHECK(refused("not json") == "the cost table must be one JSON object");
    CHECK(refused("[1, 2]") == "the cost table must be one JSON object");
    CHECK(refused("") == "the cost table must be one JSON object");
}
