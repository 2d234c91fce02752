// Kernel profiles: built-in names, bare versions, user files, and what they answer.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "guest-model/profiles/profile.h"

using namespace viommu::guest;

namespace {
constexpr const char* kMatchDefer = "driver_core.match_defer_stops_attach";
}

TEST_CASE("debian-12 is Debian's 6.1 kernel with its configuration", "[unit][profiles]")
{
    auto p = Profile::named("debian-12");
    REQUIRE(p);
    CHECK(p->version().str() == "6.1.192");
    CHECK(p->config_enabled("CONFIG_MODULES"));
    CHECK_FALSE(p->config_enabled("CONFIG_VIRTIO_IOMMU"));
    CHECK(p->config("CONFIG_VFIO") == "m");
    CHECK(p->has(kMatchDefer).present);
}

TEST_CASE("every built-in profile loads", "[unit][profiles]")
{
    for (const std::string& name : Profile::builtin_names()) {
        auto p = Profile::named(name);
        INFO(name);
        REQUIRE(p);
        CHECK_FALSE(p->source().empty());
        CHECK(p->config_enabled("CONFIG_MODULES"));
    }
}

TEST_CASE("an unknown profile name is refused with the list of built-in ones", "[unit][profiles]")
{
    auto p = Profile::named("debian-13");
    REQUIRE_FALSE(p);
    CHECK(p.error() == "unknown kernel profile \"debian-13\" (built-in profiles: debian-12, debian-12-6.12)");
}

TEST_CASE("a bare version is decided by the facts table and gets the default configuration", "[unit][profiles]")
{
    auto p = Profile::for_version("5.15.63");
    REQUIRE(p);
    CHECK(p->name() == "5.15.63");
    CHECK(p->config_enabled("CONFIG_MODULES"));
    CHECK_FALSE(p->has(kMatchDefer).present);
    CHECK(Profile::for_version("5.15.66")->has(kMatchDefer).present);
}

TEST_CASE("a user profile can start from a built-in one and override a behaviour", "[unit][profiles]")
{
    auto p = Profile::from_json(R"({"name": "vendor-6.1", "base": "debian-12",
        "config": {"CONFIG_MODULES": "n"},
        "overrides": {"driver_core.match_defer_stops_attach": {"present": false, "note": "vendor revert"}}})",
                                "vendor.json");
    REQUIRE(p);
    CHECK(p->name() == "vendor-6.1");
    CHECK(p->version().str() == "6.1.192");
    CHECK_FALSE(p->config_enabled("CONFIG_MODULES"));
    const Decision d = p->has(kMatchDefer);
    CHECK_FALSE(d.present);
    CHECK(d.why == "absent by profile vendor-6.1: vendor revert");
    CHECK(d.commit == "25e9fbf0fd38868a429feabc38abebfc6dbf6542");
}

TEST_CASE("a user profile with a version and a plain boolean override", "[unit][profiles]")
{
    auto p = Profile::from_json(
        R"({"name": "patched-5.15", "version": "5.15.50", "overrides": {"driver_core.match_defer_stops_attach": true}})",
        "patched.json");
    REQUIRE(p);
    CHECK(p->has(kMatchDefer).present);
    CHECK(p->has(kMatchDefer).why == "present by profile patched-5.15");
}

TEST_CASE("user profile errors name the file and the problem", "[unit][profiles]")
{
    const auto error = [](const char* json) {
        auto p = Profile::from_json(json, "my.json");
        REQUIRE_FALSE(p);
        return p.error();
    };
    CHECK(error(R"({"name": "x"})") == "my.json: needs a \"version\" (e.g. \"5.15.63\") or a \"base\" profile");
    CHECK(error(R"({"version": "6.1"})") == "my.json: name: missing");
    CHECK(error(R"({"name": "x", "version": "6.one"})") ==
          "my.json: version: \"6.one\" is not a kernel version (expected MAJOR.MINOR[.PATCH], e.g. 6.1 or 5.15.63)");
    CHECK(error(R"({"name": "x", "base": "debian-99"})") ==
          "my.json: base: unknown kernel profile \"debian-99\" (built-in profiles: debian-12, debian-12-6.12)");
    CHECK(error(R"({"name": "x", "version": "6.1", "overrides": {"driver_core.no_such": true}})") ==
          "my.json: overrides.driver_core.no_such: no such behaviour in the facts table");
    CHECK(error(R"({"name": "x", "version": "6.1", "config": {"MODULES": "y"}})") ==
          "my.json: config.MODULES: configuration keys are Kconfig symbols starting with CONFIG_");
    CHECK(error(R"({"name": "x", "version": "6.1", "config": {"CONFIG_MODULES": true}})") ==
          "my.json: config.CONFIG_MODULES: expected a string (\"y\", \"m\", \"n\" or a value), found boolean");
    CHECK(error(R"({"name": "x", "version": "6.1", "kernel": "6.2"})") ==
          "my.json: kernel: unknown field (expected one of: name, description, base, version, config, overrides)");
    CHECK(error("[1, 2]") == "my.json: expected an object, found array");
}

TEST_CASE("a profile file that cannot be read is reported with its path", "[unit][profiles]")
{
    auto p = Profile::from_file("/nonexistent/profile.json");
    REQUIRE_FALSE(p);
    CHECK(p.error().starts_with("/nonexistent/profile.json: cannot read profile file: "));
}

TEST_CASE("load() takes a built-in name, a version or a file", "[unit][profiles]")
{
    CHECK(Profile::load("debian-12")->name() == "debian-12");
    CHECK(Profile::load("4.19.300")->version().str() == "4.19.300");

    const std::string path = "profile_test_load.json";
    {
        std::ofstream out(path);
        out << R"({"name": "from-file", "version": "5.10.100"})";
    }
    auto p = Profile::load(path);
    std::remove(path.c_str());
    REQUIRE(p);
    CHECK(p->name() == "from-file");

    auto bad = Profile::load("not-a-profile");
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == "unknown kernel profile \"not-a-profile\": not a built-in profile (debian-12, debian-12-6.12), "
                         "not a kernel version (MAJOR.MINOR[.PATCH]) and not a readable file");
}

TEST_CASE("asking for a behaviour the facts table lacks is a bug in the caller", "[unit][profiles]")
{
    CHECK_THROWS_AS(Profile::for_version("6.1")->has("driver_core.typo"), std::invalid_argument);
}
