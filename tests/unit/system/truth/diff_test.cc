// system/truth/diff.h: the model against a real boot, field by field, and the known differences.
#include <catch2/catch.hpp>

#include "system/truth/diff.h"

using namespace viommu::system::truth;

namespace {

Observation guest()
{
    Observation o;
    o.guest = "g";
    o.kernel = "debian-12-6.12";
    o.iommu_driver_ready = true;
    o.iommu_device = "virtio0";
    o.iommu_bdf = "0000:00:03.0";
    o.features = 0x10130000077;
    o.devices.push_back({"0000:03:00.0", "vfio-pci", 9, "DMA-FQ", {"0x00000000fee00000 0x00000000feefffff msi"},
                         VfioOutcome{false, "VFIO_SET_IOMMU", 1}});
    o.endpoints.push_back({0x300, 1, 5, 0, 0, 0, 0});
    o.attach_order = {0x300};
    return o;
}

} // namespace

TEST_CASE("observations that agree have no differences", "[unit][truth]")
{
    CHECK(diff(guest(), guest()).empty());
}

TEST_CASE("a group that differs is a difference with both values", "[unit][truth]")
{
    Observation real = guest();
    real.devices[0].group = 10;
    const auto d = diff(guest(), real);
    REQUIRE(d.size() == 1);
    CHECK(d[0].field == "devices/0000:03:00.0/group");
    CHECK(d[0].model == "9");
    CHECK(d[0].real == "10");
    CHECK(d[0].known.empty());
}

TEST_CASE("a VFIO outcome reads as its stage and errno name", "[unit][truth]")
{
    Observation real = guest();
    real.devices[0].vfio = VfioOutcome{false, "bind vfio-pci", 22};
    const auto d = diff(guest(), real);
    REQUIRE(d.size() == 1);
    CHECK(d[0].model == "VFIO_SET_IOMMU EPERM");
    CHECK(d[0].real == "bind vfio-pci EINVAL");
}

TEST_CASE("a device only one side has is reported as absent on the other", "[unit][truth]")
{
    Observation real = guest();
    real.devices.push_back({"0000:00:1f.0", "lpc_ich", 8, "DMA-FQ", {}, std::nullopt});
    const auto d = diff(guest(), real);
    REQUIRE(d.size() == 1);
    CHECK(d[0].field == "devices/0000:00:1f.0");
    CHECK(d[0].model == "absent");
}

TEST_CASE("a known difference covers the fields and recordings its globs match", "[unit][truth]")
{
    Observation real = guest();
    real.endpoints[0].maps = 24;
    real.devices[0].group = 3;
    auto d = diff(guest(), real);
    const auto known = parse_known_differences(
        R"([{"recording": "*", "field": "endpoints/*/maps", "reason": "the model's DMA stands in"},
            {"recording": "other", "field": "devices/*/group", "reason": "not this recording"}])");
    REQUIRE(known);
    mark_known(d, *known, "default-guest");
    REQUIRE(d.size() == 2);
    CHECK(d[0].field == "devices/0000:03:00.0/group");
    CHECK(d[0].known.empty());
    CHECK(d[1].field == "endpoints/0x0300/maps");
    CHECK(d[1].known == "the model's DMA stands in");
    CHECK_FALSE(differences_json(guest(), d)["agree"].get<bool>());
}

TEST_CASE("a known difference without its reason is refused", "[unit][truth]")
{
    const auto known = parse_known_differences(R"([{"recording": "*", "field": "iommu/features", "reason": ""}])");
    REQUIRE_FALSE(known);
    CHECK_THAT(known.error(), Catch::Contains("entry 0"));
}

TEST_CASE("an observation survives its JSON form", "[unit][truth]")
{
    const auto back = observation_from_json(nlohmann::json::parse(to_json(guest()).dump()));
    REQUIRE(back);
    CHECK(diff(guest(), *back).empty());
}
