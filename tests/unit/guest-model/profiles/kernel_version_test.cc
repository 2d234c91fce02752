// Kernel version numbers as profiles and the facts table write them.
#include <catch2/catch.hpp>

#include "guest-model/profiles/kernel_version.h"

using viommu::guest::profiles::KernelVersion;

TEST_CASE("a kernel version is MAJOR.MINOR with an optional point release", "[unit][profiles]")
{
    CHECK(*KernelVersion::parse("6.1") == KernelVersion{6, 1, 0});
    CHECK(*KernelVersion::parse("5.15.63") == KernelVersion{5, 15, 63});
    CHECK(*KernelVersion::parse("v4.19.300") == KernelVersion{4, 19, 300});
    CHECK(KernelVersion::parse("6.1.0")->str() == "6.1");
    CHECK(KernelVersion::parse("5.15.63")->str() == "5.15.63");
}

TEST_CASE("versions order numerically, not as text", "[unit][profiles]")
{
    CHECK_FALSE(*KernelVersion::parse("5.10") < *KernelVersion::parse("5.9.300"));
    CHECK(*KernelVersion::parse("4.19.258") > *KernelVersion::parse("4.19.99"));
    CHECK(*KernelVersion::parse("6.0") > *KernelVersion::parse("5.19.17"));
}

TEST_CASE("a malformed version is refused with the reason", "[unit][profiles]")
{
    for (const char* bad : {"", "6", "6.", "6.x", "6.1.2.3", "6.1-rc4", "latest", "v", "6..1"}) {
        const auto v = KernelVersion::parse(bad);
        INFO(bad);
        REQUIRE_FALSE(v);
        CHECK(v.error().find("is not a kernel version") != std::string::npos);
    }
}
