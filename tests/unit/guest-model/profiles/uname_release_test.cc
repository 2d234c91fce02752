// `uname -r` strings as users have them, matched to the built-in profile of that distribution kernel.
#include <catch2/catch.hpp>

#include "guest-model/profiles/uname_release.h"

using namespace viommu::guest::profiles;

namespace {

std::string profile_of(const char* release)
{
    const auto match = match_uname_release(release);
    return match ? match->profile : "(no match)";
}

} // namespace

TEST_CASE("Debian 12's 6.1 kernel is debian-12, whatever its ABI number and flavour", "[unit][profiles]")
{
    CHECK(profile_of("6.1.0-18-amd64") == "debian-12");
    CHECK(profile_of("6.1.0-56-cloud-amd64") == "debian-12");
    CHECK(profile_of("6.1.0-18-rt-amd64") == "debian-12");
    CHECK(profile_of("6.1.0-0.deb11.17-amd64") == "debian-12");
    CHECK(match_uname_release("6.1.0-18-amd64")->why == "6.1.0-18-amd64 is Debian 12's 6.1 kernel for x86_64");
}

TEST_CASE("an arm64 flavour is the -arm64 profile", "[unit][profiles]")
{
    CHECK(profile_of("6.1.0-18-arm64") == "debian-12-arm64");
    CHECK(profile_of("6.1.0-18-cloud-arm64") == "debian-12-arm64");
    CHECK(profile_of("6.12.12+bpo-arm64") == "debian-12-6.12-arm64");
    CHECK(profile_of("6.12.117+deb12-arm64-16k") == "debian-12-6.12-arm64");
}

TEST_CASE("Debian 12's 6.12, from backports or bookworm-security, is debian-12-6.12", "[unit][profiles]")
{
    CHECK(profile_of("6.12.12+bpo-amd64") == "debian-12-6.12");
    CHECK(profile_of("6.12.117+deb12-amd64") == "debian-12-6.12");
    CHECK(match_uname_release("6.12.12+bpo-amd64")->why.find("bookworm-backports") != std::string::npos);
}

TEST_CASE("another distribution's kernel is read as its version, as --kernel reads a plain version",
          "[unit][profiles]")
{
    CHECK(profile_of("6.8.0-45-generic") == "6.8");           // Ubuntu 24.04
    CHECK(profile_of("6.11.4-301.fc41.x86_64") == "6.11.4"); // Fedora 41
    CHECK(profile_of("6.12.48+deb13-amd64") == "6.12.48");  // Debian 13, no built-in profile
    CHECK(match_uname_release("6.8.0-45-generic")->why.find("-k /boot/config-6.8.0-45-generic") != std::string::npos);
}

TEST_CASE("a release whose version has a mainline profile gets it only for the architecture it names",
          "[unit][profiles]")
{
    CHECK(profile_of("6.12.0-1-amd64") == "6.12");
    CHECK(profile_of("6.12.0-1.fc41.aarch64") == "6.12-arm64");
    CHECK(profile_of("6.12.0-1-generic") == "6.12"); // no architecture named: the plain version
    CHECK(profile_of("6.12.0-1-generic-64k") == "6.12-arm64");
}

TEST_CASE("text that is no uname release does not match", "[unit][profiles]")
{
    for (const char* text : {"6.1", "6.1.0", "debian-12", "linux-6.1", "6.1.0 -18-amd64", "6.1.0-18-amd64;rm", "", "-amd64"}) {
        INFO(text);
        CHECK_FALSE(match_uname_release(text));
    }
}
