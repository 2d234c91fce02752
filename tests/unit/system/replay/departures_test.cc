// The departures a difference with a QEMU peer is explained by: one per member of DeviceBehaviour in
// which the two differ, each applied alone to ours.
#include <catch2/catch.hpp>

#include "system/replay/departures.h"

using namespace viommu::system::replay;
namespace vi = viommu::hw::virtio_iommu;

namespace {
const vi::DeviceBehaviour& profile(std::string_view name)
{
    const vi::DeviceProfile* p = vi::find_device_profile(name);
    REQUIRE(p);
    return p->behaviour;
}
} // namespace

TEST_CASE("applying every departure turns each profile's behaviour into every other's", "[unit][replay]")
{
    // A member missing from the table would leave the two apart.
    for (const vi::DeviceProfile& from : vi::device_profiles())
        for (const vi::DeviceProfile& to : vi::device_profiles()) {
            INFO(from.behaviour.profile << " -> " << to.behaviour.profile);
            vi::DeviceBehaviour b = with_all_departures(from.behaviour, to.behaviour);
            b.profile = to.behaviour.profile;
            b.qemu = to.behaviour.qemu;
            CHECK(b == to.behaviour);
        }
}

TEST_CASE("a departure changes one member of ours and is named after its conformance row", "[unit][replay]")
{
    const auto list = departures(profile("spec"), profile("qemu-7.2"));
    REQUIRE(list.size() >= 10);
    for (const Departure& d : list) {
        INFO(d.row);
        CHECK(d.behaviour.profile == "spec"); // ours, not the peer's, with one member changed
        CHECK(d.row.substr(0, 5) == "5.13.");
        CHECK(d.row.find("QEMU") != std::string_view::npos);
    }
    const auto alignment = std::find_if(list.begin(), list.end(), [](const Departure& d) {
        return d.row.find("not aligned") != std::string_view::npos;
    });
    REQUIRE(alignment != list.end());
    CHECK_FALSE(alignment->behaviour.map_checks_alignment);
    CHECK(alignment->behaviour.map_checks_reserved_regions); // untouched
}

TEST_CASE("a profile has no departures from itself", "[unit][replay]")
{
    for (const vi::DeviceProfile& p : vi::device_profiles())
        CHECK(departures(p.behaviour, p.behaviour).empty());
}
