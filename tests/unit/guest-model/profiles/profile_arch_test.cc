// Kernel profiles and architectures: what each built-in profile is built for, what a user's file
// inherits, which profiles fit which guests, and each architecture's default.
#include <catch2/catch.hpp>

#include "guest-model/profiles/profile.h"

using namespace viommu::guest::profiles;

namespace {

std::string error(const char* json)
{
    auto p = Profile::from_json(json, "my.json");
    REQUIRE_FALSE(p);
    return p.error();
}

} // namespace

TEST_CASE("every built-in profile says which architecture it is built for", "[unit][profiles][arch]")
{
    for (const std::string& name : Profile::builtin_names()) {
        INFO(name);
        auto p = Profile::named(name);
        REQUIRE(p);
        REQUIRE(p->arch());
        // The arm64 ones are named so, and read arm64's defconfig or Debian's arm64 package.
        CHECK((*p->arch() == Arch::kAarch64) == name.ends_with("-arm64"));
        CHECK(p->fits(*p->arch()));
        CHECK_FALSE(p->fits(*p->arch() == Arch::kX86_64 ? Arch::kAarch64 : Arch::kX86_64));
    }
}

TEST_CASE("each x86_64 mainline release has an arm64 profile of the same version", "[unit][profiles][arch]")
{
    for (const std::string& name : Profile::comparison_names(Arch::kX86_64)) {
        INFO(name);
        auto x86 = Profile::named(name);
        auto arm = Profile::named(name + "-arm64");
        REQUIRE(x86);
        REQUIRE(arm);
        CHECK(arm->version() == x86->version());
    }
}

TEST_CASE("virtio-iommu builds on arm64 from 5.3 (edcd69ab9a32), so 5.10-arm64 has it where 5.10 cannot",
          "[unit][profiles][arch]")
{
    CHECK_FALSE(Profile::named("5.10")->config_enabled("CONFIG_VIRTIO_IOMMU"));
    CHECK(Profile::named("5.10-arm64")->config_enabled("CONFIG_VIRTIO_IOMMU"));
    CHECK_FALSE(Profile::named("4.19-arm64")->config_enabled("CONFIG_VIRTIO_IOMMU"));
    // ACPI VIOT (3cf485540e7b) is 5.14: the DT-only 5.10 cannot read it.
    CHECK_FALSE(Profile::named("5.10-arm64")->config_enabled("CONFIG_ACPI_VIOT"));
    CHECK(Profile::named("5.15-arm64")->config_enabled("CONFIG_ACPI_VIOT"));
    // Debian 12's arm64 6.1 kernel leaves it out, as its amd64 one does; its 6.12 kernel has it.
    CHECK_FALSE(Profile::named("debian-12-arm64")->config_enabled("CONFIG_VIRTIO_IOMMU"));
    CHECK(Profile::named("debian-12-6.12-arm64")->config("CONFIG_VIRTIO_IOMMU") == "m");
}

TEST_CASE("a user profile has its base's architecture and may not contradict it", "[unit][profiles][arch]")
{
    auto based = Profile::from_json(R"({"name": "mine", "base": "6.12-arm64"})", "my.json");
    REQUIRE(based);
    CHECK(based->arch() == Arch::kAarch64);
    auto same = Profile::from_json(R"({"name": "mine", "base": "6.12-arm64", "arch": "aarch64"})", "my.json");
    REQUIRE(same);
    CHECK(error(R"({"name": "mine", "base": "6.12", "arch": "aarch64"})") ==
          "my.json: arch: its base is built for x86_64, not aarch64");
    CHECK(error(R"({"name": "mine", "version": "6.1", "arch": "arm64"})") ==
          "my.json: arch: \"arm64\" is not an architecture (x86_64 or aarch64)");
}

TEST_CASE("a bare version, or a user file with neither arch nor base, fits a guest of either architecture",
          "[unit][profiles][arch]")
{
    auto bare = Profile::load("5.19.8");
    REQUIRE(bare);
    CHECK_FALSE(bare->arch());
    CHECK(bare->fits(Arch::kX86_64));
    CHECK(bare->fits(Arch::kAarch64));
    auto file = Profile::from_json(R"({"name": "mine", "version": "6.1"})", "my.json");
    REQUIRE(file);
    CHECK(file->fits(Arch::kAarch64));
    auto arm = Profile::from_json(R"({"name": "mine", "version": "6.1", "arch": "aarch64"})", "my.json");
    REQUIRE(arm);
    CHECK_FALSE(arm->fits(Arch::kX86_64));
}

TEST_CASE("each architecture's default profile is Debian 12's 6.12 kernel built for it", "[unit][profiles][arch]")
{
    CHECK(Profile::default_name(Arch::kX86_64) == "debian-12-6.12");
    CHECK(Profile::default_name(Arch::kAarch64) == "debian-12-6.12-arm64");
    for (const Arch arch : {Arch::kX86_64, Arch::kAarch64})
        CHECK(Profile::named(Profile::default_name(arch))->arch() == arch);
}
