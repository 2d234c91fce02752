// Kernel profiles: built-in names, bare versions, user files, and what they answer.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "guest-model/profiles/fact_keys.h"
#include "guest-model/profiles/profile.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;



namespace {
constexpr FactKey kMatchDefer = fact::driver_core::kMatchDeferStopsAttach;
// Every built-in profile, as an unknown name's error lists them: x86_64 then aarch64, oldest first.
constexpr const char* kBuiltins = "4.19, 5.10, 5.15, 5.18, 5.19, 5.19.9, 6.0, 6.1, debian-12, 6.6, 6.12, "
                                  "debian-12-6.12, 6.15, 6.18, 6.19, 4.19-arm64, 5.10-arm64, 5.15-arm64, 5.18-arm64, "
                                  "5.19-arm64, 5.19.9-arm64, 6.0-arm64, 6.1-arm64, debian-12-arm64, 6.6-arm64, "
                                  "6.12-arm64, debian-12-6.12-arm64, 6.15-arm64, 6.18-arm64, 6.19-arm64";
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

TEST_CASE("every built-in profile loads and states the configuration the guest stack reads", "[unit][profiles]")
{
    REQUIRE(Profile::builtin_names().size() == 30);
    for (const std::string& name : Profile::builtin_names()) {
        auto p = Profile::named(name);
        INFO(name);
        REQUIRE(p);
        CHECK_FALSE(p->description().empty());
        CHECK_FALSE(p->source().empty());
        CHECK(p->config_enabled("CONFIG_MODULES"));
        // Stated, not left to a default, so that "no virtio-iommu driver" is the profile's own answer.
        for (const char* key : {"CONFIG_VIRTIO_IOMMU", "CONFIG_ACPI_VIOT", "CONFIG_VFIO", "CONFIG_VFIO_NOIOMMU",
                                "CONFIG_VFIO_CONTAINER", "CONFIG_IOMMUFD", "CONFIG_IOMMUFD_VFIO_CONTAINER",
                                "CONFIG_VFIO_DEVICE_CDEV", "CONFIG_LPC_ICH", "CONFIG_SATA_AHCI", "CONFIG_E1000",
                                "CONFIG_E1000E", "CONFIG_I2C_I801"})
            CHECK(p->config(key).has_value());
    }
}

TEST_CASE("the mainline profiles name point releases: 5.18 is 5.18.19, 5.19 is 5.19.8, 5.19.9 is 5.19.9",
          "[unit][profiles]")
{
    const std::pair<const char*, const char*> expected[] = {
        {"4.19", "4.19"}, {"5.10", "5.10"},   {"5.15", "5.15"}, {"5.18", "5.18.19"}, {"5.19", "5.19.8"},
        {"5.19.9", "5.19.9"}, {"6.0", "6.0"}, {"6.1", "6.1"},   {"6.6", "6.6"},      {"6.12", "6.12"},
        {"6.15", "6.15"},     {"6.18", "6.18"},   {"6.19", "6.19"}};
    for (const auto& [name, version] : expected) {
        INFO(name);
        auto p = Profile::named(name);
        REQUIRE(p);
        CHECK(p->version().str() == version);
    }
}

TEST_CASE("an x86 profile builds virtio-iommu only from 5.14 on: not in 4.19 or 5.10, a module with ACPI VIOT "
          "from 5.15",
          "[unit][profiles]")
{
    for (const char* name : {"4.19", "5.10"}) {
        INFO(name);
        CHECK(Profile::named(name)->config("CONFIG_VIRTIO_IOMMU") == "n");
        CHECK_FALSE(Profile::named(name)->config_enabled("CONFIG_ACPI_VIOT"));
    }
    for (const char* name : {"5.15", "5.18", "5.19", "5.19.9", "6.0", "6.1", "6.6", "6.12"}) {
        INFO(name);
        CHECK(Profile::named(name)->config("CONFIG_VIRTIO_IOMMU") == "m");
        CHECK(Profile::named(name)->config("CONFIG_ACPI_VIOT") == "y");
    }
}

TEST_CASE("mainline profiles take the x86 Kconfig default: lazy DMA domains from 5.15, no strict/lazy choice before",
          "[unit][profiles]")
{
    for (const char* name : {"4.19", "5.10"}) {
        INFO(name);
        auto p = Profile::named(name);
        CHECK(p->config("CONFIG_IOMMU_DEFAULT_PASSTHROUGH") == "n");
        CHECK_FALSE(p->config("CONFIG_IOMMU_DEFAULT_DMA_LAZY").has_value());
        CHECK_FALSE(p->config("CONFIG_IOMMU_DEFAULT_DMA_STRICT").has_value());
    }
    for (const char* name : {"5.15", "5.19", "6.1", "6.12"}) {
        INFO(name);
        auto p = Profile::named(name);
        CHECK(p->config("CONFIG_IOMMU_DEFAULT_DMA_LAZY") == "y");
        CHECK(p->config("CONFIG_IOMMU_DEFAULT_DMA_STRICT") == "n");
        CHECK(p->config("CONFIG_IOMMU_DEFAULT_PASSTHROUGH") == "n");
    }
}

TEST_CASE("4.19 has no symbolic error names: CONFIG_SYMBOLIC_ERRNAME does not exist there", "[unit][profiles]")
{
    CHECK_FALSE(Profile::named("4.19")->config_enabled("CONFIG_SYMBOLIC_ERRNAME"));
    CHECK(Profile::named("5.10")->config_enabled("CONFIG_SYMBOLIC_ERRNAME"));
}

TEST_CASE("the 5.18, 5.19 and 5.19.9 profiles tell VFIO's coherency story", "[unit][profiles]")
{
    const auto has = [](const char* profile, FactKey behaviour) {
        auto p = Profile::named(profile);
        REQUIRE(p);
        return p->has(behaviour).present;
    };
    CHECK_FALSE(has("5.18", fact::vfio::kRequiresCacheCoherency));
    CHECK(has("5.19", fact::vfio::kRequiresCacheCoherency));
    CHECK_FALSE(has("5.19", fact::viommu::kCapCacheCoherency));
    CHECK(has("5.19.9", fact::viommu::kCapCacheCoherency));
    CHECK(has("6.0", fact::viommu::kCapCacheCoherency));
}

TEST_CASE("debian-12 and the 6.1 profile are one tree configured differently: only 6.1 builds virtio-iommu",
          "[unit][profiles]")
{
    auto debian = Profile::named("debian-12");
    auto mainline = Profile::named("6.1");
    REQUIRE(debian);
    REQUIRE(mainline);
    CHECK(debian->version().same_tree(mainline->version()));
    CHECK_FALSE(debian->config_enabled("CONFIG_VIRTIO_IOMMU"));
    CHECK(mainline->config_enabled("CONFIG_VIRTIO_IOMMU"));
}

TEST_CASE("comparison_names() lists the profiles oldest first, each Debian kernel after its tree's release",
          "[unit][profiles]")
{
    CHECK(Profile::comparison_names(Arch::kX86_64) ==
          std::vector<std::string>{"4.19", "5.10", "5.15", "5.18", "5.19", "5.19.9", "6.0", "6.1", "debian-12", "6.6",
                                   "6.12", "debian-12-6.12", "6.15", "6.18", "6.19"});
    CHECK(Profile::comparison_names(Arch::kAarch64) ==
          std::vector<std::string>{"4.19-arm64", "5.10-arm64", "5.15-arm64", "5.18-arm64", "5.19-arm64",
                                   "5.19.9-arm64", "6.0-arm64", "6.1-arm64", "debian-12-arm64", "6.6-arm64",
                                   "6.12-arm64", "debian-12-6.12-arm64", "6.15-arm64", "6.18-arm64",
                                   "6.19-arm64"});
    for (const Arch arch : {Arch::kX86_64, Arch::kAarch64}) {
        KernelVersion previous;
        for (const std::string& name : Profile::comparison_names(arch)) {
            INFO(name);
            auto p = Profile::named(name);
            REQUIRE(p);
            CHECK(p->version() >= previous);
            previous = p->version();
        }
    }
}

TEST_CASE("a bare point release stays a version: 5.19.8 is not the 5.19 profile", "[unit][profiles]")
{
    auto bare = Profile::load("5.19.8");
    REQUIRE(bare);
    CHECK(bare->name() == "5.19.8");
    CHECK(bare->description() == "Linux 5.19.8 (facts table only)");
    CHECK_FALSE(bare->config("CONFIG_VIRTIO_IOMMU").has_value());

    auto named = Profile::load("5.19");
    REQUIRE(named);
    CHECK(named->name() == "5.19");
    CHECK(named->version().str() == "5.19.8");
}

TEST_CASE("an unknown profile name is refused with the list of built-in ones", "[unit][profiles]")
{
    auto p = Profile::named("debian-13");
    REQUIRE_FALSE(p);
    CHECK(p.error() == fmt::format("unknown kernel profile \"debian-13\" (built-in profiles: {})", kBuiltins));
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
          fmt::format("my.json: base: unknown kernel profile \"debian-99\" (built-in profiles: {})", kBuiltins));
    CHECK(error(R"({"name": "x", "version": "6.1", "overrides": {"driver_core.no_such": true}})") ==
          "my.json: overrides.driver_core.no_such: no such behaviour in the facts table");
    CHECK(error(R"({"name": "x", "version": "6.1", "config": {"MODULES": "y"}})") ==
          "my.json: config.MODULES: configuration keys are Kconfig symbols starting with CONFIG_");
    CHECK(error(R"({"name": "x", "version": "6.1", "config": {"CONFIG_MODULES": true}})") ==
          "my.json: config.CONFIG_MODULES: expected a string (\"y\", \"m\", \"n\" or a value), found boolean");
    CHECK(error(R"({"name": "x", "version": "6.1", "kernel": "6.2"})") ==
          "my.json: kernel: unknown field (expected one of: name, description, base, arch, version, config, overrides)");
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
    CHECK(bad.error() == fmt::format("unknown kernel profile \"not-a-profile\": not a built-in profile ({}), not a "
                                     "kernel version (MAJOR.MINOR[.PATCH]) and not a readable file",
                                     kBuiltins));
}


TEST_CASE("6.19 carries 6.18 forward on both architectures: the same configuration, every behaviour decided "
          "alike",
          "[unit][profiles]")
{
    for (const auto& [name, previous] : {std::pair{"6.19", "6.18"}, std::pair{"6.19-arm64", "6.18-arm64"}}) {
        INFO(name);
        auto p = Profile::named(name);
        auto prev = Profile::named(previous);
        REQUIRE(p);
        REQUIRE(prev);
        CHECK(p->version().str() == "6.19");
        CHECK(p->arch() == prev->arch());
        CHECK(p->config_values() == prev->config_values());
        for (const FactKey key : FactKeys::kAll) {
            INFO(key.str());
            CHECK(p->has(key).present == prev->has(key).present);
        }
        // The first behaviour after 6.19 is not in it (iommu.pci_reset_blocking_domain, v7.0).
        CHECK_FALSE(p->has(fact::iommu::kPciResetBlockingDomain).present);
    }
}
