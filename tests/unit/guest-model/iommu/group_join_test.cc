// A device probed into a group that already has its default domain: attached twice in a row before
// v6.5 (iommu_group_add_device() and iommu_probe_device() both attached it), once from 0046a4337eae.
#include <catch2/catch.hpp>

#include "guest-model/iommu/core.h"
#include "guest-model/pci/topology.h"
#include "tests/support/driver_core_fixture.h"
#include "tests/support/fake_iommu_driver.h"

using namespace viommu::guest;
using viommu::test::CoreFixture;
using viommu::test::FakeIommuDriver;

namespace {

// Functions 0 and 1 of a conventional multifunction slot: no ACS, so pci_device_group() puts them in
// one group. Both are probed by the IOMMU (dma_configure), function 0 first.
struct TwoFunctionSlot {
    explicit TwoFunctionSlot(const std::string& kernel)
        : fixture(kernel), iommu(fixture.core, {}, iommu::CoreBehaviour::from(fixture.profile))
    {
        driver_core::Bus& bus = fixture.table_bus("pci");
        for (uint8_t fn = 0; fn < 2; ++fn) {
            pci::Function* f = topology.add({"e1000", pci::Kind::kEndpoint, 4, fn, true, false});
            driver_core::Device& dev = fixture.add_device(bus, f->bdf());
            iommu.set_pci_function(dev, *f);
            iommu.set_firmware_link(dev, {"viommu", {f->requester_id()}});
            devices.push_back(&dev);
        }
        topology.assign_bus_numbers();
        iommu.register_iommu("viommu", driver);
        for (driver_core::Device* dev : devices)
            REQUIRE(iommu.dma_configure(*dev) == 0);
        REQUIRE(iommu.group_of(*devices[0]) == iommu.group_of(*devices[1]));
    }

    CoreFixture fixture;
    iommu::IommuCore iommu;
    pci::Topology topology;
    FakeIommuDriver driver;
    std::vector<driver_core::Device*> devices;
};

} // namespace

TEST_CASE("Before v6.5 a device joining a group in its default domain is attached to it twice in a row",
          "[unit][iommu][groups]")
{
    TwoFunctionSlot slot("6.1");
    const iommu::Domain* dflt = slot.iommu.group_of(*slot.devices[0])->default_domain();
    CHECK(slot.driver.attaches_of("0000:00:04.0") == 1);
    CHECK(slot.driver.attaches_of("0000:00:04.1") == 2);
    CHECK(slot.driver.attaches.back().first == dflt);
    CHECK(slot.driver.attaches[1] == slot.driver.attaches[2]);
}

TEST_CASE("From v6.5 (0046a4337eae) a device joining a group is attached to its domain once", "[unit][iommu][groups]")
{
    TwoFunctionSlot slot("6.12");
    CHECK(slot.driver.attaches_of("0000:00:04.0") == 1);
    CHECK(slot.driver.attaches_of("0000:00:04.1") == 1);
}
