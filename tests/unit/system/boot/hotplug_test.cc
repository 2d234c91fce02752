// PCI hot-plug and unplug into empty root ports of a live guest: the board takes the function where
// QEMU would, the guest's pciehp path probes it with the IOMMU, groups it and binds its driver, and
// unplug releases the endpoint as each kernel release does.
#include <catch2/catch.hpp>

#include <algorithm>

#include "hw/virtio-iommu/wire.h"
#include "system/boot/live_guest.h"
#include "tests/support/guest_specs.h"

using namespace viommu;
using namespace viommu::system::boot;
namespace pci = guest::pci;

namespace {

// q35 with a virtio-iommu, a virtio NIC on root port pci.1 and two empty root ports, pci.2 and pci.3.
GuestSpec guest_with_empty_ports(bool allow_unsafe_interrupts = false)
{
    test::SpecBuilder b;
    uint8_t function = 0;
    for (const char* id : {"pci.1", "pci.2", "pci.3"}) {
        const int port = b.add("pcie-root-port", pci::Kind::kRootPort, Role::kBridge, 2, -1, function++);
        b.at(port).qdev_id = id;
        b.at(port).pci.multifunction = true;
        if (std::string(id) == "pci.1")
            b.add("virtio-net-pci", pci::Kind::kPcieEndpoint, Role::kVirtioNet, 0, port);
    }
    b.spec().cmdline.allow_unsafe_interrupts = allow_unsafe_interrupts;
    return b.spec();
}

guest::profiles::Profile kernel(const char* name)
{
    return *guest::profiles::Profile::named(name);
}

const DeviceReport* device(const GuestReport& r, const std::string& bdf)
{
    const auto it = std::find_if(r.devices.begin(), r.devices.end(), [&](const DeviceReport& d) { return d.bdf == bdf; });
    return it == r.devices.end() ? nullptr : &*it;
}

PlugRequest hostdev(std::string id, std::string bus)
{
    return {"vfio-pci", std::move(id), std::move(bus), "0000:67:00.0", false, ""};
}

PlugRequest nic(std::string id, std::string bus, bool iommu_platform = true)
{
    return {"virtio-net-pci", std::move(id), std::move(bus), "", iommu_platform, ""};
}

} // namespace

TEST_CASE("A hostdev hot-plugged into an empty root port gets a group of its own and a VFIO verdict")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    const std::size_t groups_before = g.report().devices.size();
    const auto added = g.device_add(hostdev("hostdev1", "pci.2"));
    REQUIRE(added);
    CHECK(added->bdf == "0000:02:00.0");
    CHECK(added->driver == "vfio-pci");
    REQUIRE(added->group);
    REQUIRE(added->vfio);
    // q35 isolates no MSIs: VFIO_SET_IOMMU refuses it, as for a hostdev present at boot.
    CHECK_FALSE(added->vfio->admitted);
    CHECK(g.report().devices.size() == groups_before + 1);
    for (const DeviceReport& d : g.report().devices)
        if (d.bdf != added->bdf && d.group)
            CHECK(*d.group != *added->group);
}

TEST_CASE("A hot-plugged hostdev is admitted where the boot's would be")
{
    LiveGuest g(guest_with_empty_ports(true), kernel("debian-12-6.12"));
    const auto added = g.device_add(hostdev("hostdev1", "pci.3"));
    REQUIRE(added);
    REQUIRE(added->vfio);
    CHECK(added->vfio->admitted);
    CHECK(added->vfio->unsafe);
}

TEST_CASE("A virtio NIC hot-plugged with iommu_platform binds virtio_net and its DMA is translated")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    const auto added = g.device_add(nic("net1", "pci.2"));
    REQUIRE(added);
    CHECK(added->driver == "virtio-pci/virtio_net");
    CHECK(added->group);
    CHECK(added->dma.result == DmaResult::kTranslated);
}

TEST_CASE("A virtio NIC hot-plugged without iommu_platform reaches memory directly")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    const auto added = g.device_add(nic("net1", "pci.2", false));
    REQUIRE(added);
    CHECK(added->dma.result == DmaResult::kDirect);
}

TEST_CASE("A root port takes one function: an occupied one refuses in QEMU's words")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    const auto refused = g.device_add(nic("net2", "pci.1"));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.rfind("PCI: slot 0 function 0 not available for virtio-net-pci, in use by", 0) == 0);
}

TEST_CASE("The root bus takes no hot-plug, an unknown bus is not found, an ID is unique")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    CHECK(g.device_add(nic("net1", "")).error().message == "Bus 'pcie.0' does not support hotplugging");
    CHECK(g.device_add(nic("net1", "pci.9")).error().message == "Bus 'pci.9' not found");
    CHECK(g.device_add(nic("1net", "pci.2")).error().message == "Parameter 'id' expects an identifier");
    REQUIRE(g.device_add(nic("net1", "pci.2")));
    CHECK(g.device_add(nic("net1", "pci.3")).error().message == "Duplicate device ID 'net1'");
    CHECK(g.device_add(hostdev("h", "pci.3")).has_value());
    CHECK(g.device_add({"vfio-pci", "h2", "pci.3", "", false, ""}).error().message == "No provided host device");
}

// qdev_device_add_from_qdict()'s order, as QEMU 7.2.22 answered (tests/integration/fixtures).
TEST_CASE("device_add's checks come in QEMU's order: ID form, model, bus, ID taken, properties, device")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    REQUIRE(g.device_add(nic("net1", "pci.2")));
    CHECK(g.device_add({"e1000e", "1x", "pci.9", "", false, ""}).error().message == "Parameter 'id' expects an identifier");
    CHECK(g.device_add({"e1000e", "net1", "pci.9", "", false, ""}).error().message.rfind("'e1000e' is not a valid", 0) == 0);
    CHECK(g.device_add(nic("net1", "pci.9")).error().message == "Bus 'pci.9' not found");
    PlugRequest bad_property = nic("net1", "pci.3");
    bad_property.property_error = "Property 'virtio-net-pci.x' not found";
    CHECK(g.device_add(bad_property).error().message == "Duplicate device ID 'net1'");
    bad_property.id = "net2";
    CHECK(g.device_add(bad_property).error().message == "Property 'virtio-net-pci.x' not found");
    CHECK(g.device_add({"vfio-pci", "h", "pci.3", "zz", false, ""}).error().message ==
          "Property 'vfio-pci.host' doesn't take value 'zz'");
}

TEST_CASE("A refused hot-plug leaves the guest as it was")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    const GuestReport before = g.report();
    REQUIRE_FALSE(g.device_add(nic("net2", "pci.1")));
    REQUIRE_FALSE(g.device_add({"e1000e", "x", "pci.2", "", false, ""}));
    const GuestReport after = g.report();
    CHECK(after.devices.size() == before.devices.size());
    CHECK(after.dmesg == before.dmesg);
}

TEST_CASE("Unplug removes the function and its group, and the slot can be used again")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    const auto added = g.device_add(nic("net1", "pci.2"));
    REQUIRE(added);
    REQUIRE(g.device_del("net1"));
    CHECK_FALSE(device(g.report(), added->bdf));
    CHECK(g.device_del("net1").error().not_found);
    CHECK(g.device_del("net1").error().message == "Device 'net1' not found");
    const auto again = g.device_add(hostdev("hostdev1", "pci.2"));
    REQUIRE(again);
    CHECK(again->bdf == added->bdf);
    CHECK(again->driver == "vfio-pci");
}

TEST_CASE("A hostdev bound to vfio-pci is released on unplug, its group with it")
{
    LiveGuest g(guest_with_empty_ports(true), kernel("debian-12-6.12"));
    const auto added = g.device_add(hostdev("hostdev1", "pci.3"));
    REQUIRE(added);
    REQUIRE(added->group);
    REQUIRE(g.device_del("hostdev1"));
    const GuestReport r = g.report();
    CHECK_FALSE(device(r, added->bdf));
    for (const DeviceReport& d : r.devices)
        CHECK(d.group != added->group);
}

TEST_CASE("Unplug DETACHes the endpoint from 6.5 on (809d0810e352), and 6.1.0 leaves it attached")
{
    for (const auto& [name, detached] : {std::pair{"6.12", true}, std::pair{"6.1", false}}) {
        INFO(name);
        LiveGuest g(guest_with_empty_ports(), kernel(name));
        const auto added = g.device_add(nic("net1", "pci.2"));
        REQUIRE(added);
        const hw::virtio_iommu::EndpointId ep(added->qemu_endpoint);
        REQUIRE(g.iommu()->attachment(ep));
        const uint64_t requests = g.iommu()->stats().requests;
        REQUIRE(g.device_del("net1"));
        CHECK(g.iommu()->attachment(ep).has_value() == !detached);
        CHECK((g.iommu()->stats().requests > requests) == detached);
    }
}

namespace {

// guest_with_empty_ports() under a device profile, whose host 0000:67:00.0 (hostdev()'s) has a host IOMMU.
GuestSpec with_hotplug_host(const char* device_profile, hw::virtio_iommu::HostIommuConstraints host)
{
    GuestSpec spec = guest_with_empty_ports(true);
    spec.iommu.device_profile = device_profile;
    spec.hotplug_hosts.push_back({*PciAddress::parse("0000:67:00.0"), std::move(host)});
    return spec;
}

bool has_host_region(const LiveGuest& g, uint32_t endpoint)
{
    const auto& reserved = g.iommu()->config().reserved;
    return std::any_of(reserved.begin(), reserved.end(), [&](const hw::virtio_iommu::ReservedRegion& r) {
        return r.from_host && r.applies_to(hw::virtio_iommu::EndpointId(endpoint));
    });
}

} // namespace

TEST_CASE("A hot-plugged hostdev whose host page sizes miss the frozen granule is refused with QEMU's reason, and "
          "leaves no trace")
{
    for (const auto& [profile, reason] :
         {std::pair{"qemu-7.2", "virtio-iommu page mask 0xfffffffffffff000 is incompatible with mask 0x10000"},
          std::pair{"qemu-9.1", "virtio-iommu does not support frozen granule 0x1000"}}) {
        INFO(profile);
        LiveGuest g(with_hotplug_host(profile, {0x10000, std::nullopt, {}, true}), kernel("debian-12-6.12"));
        const GuestReport before = g.report();
        const auto refused = g.device_add(hostdev("hostdev1", "pci.2"));
        REQUIRE_FALSE(refused);
        CHECK_FALSE(refused.error().not_found);
        CHECK_THAT(refused.error().message, Catch::Contains(reason));
        const GuestReport after = g.report();
        CHECK(after.devices.size() == before.devices.size());
        CHECK(after.dmesg == before.dmesg);
        CHECK(g.iommu()->config().page_size_mask == 0xfffffffffffff000);
        // The port is still free, and a virtio NIC, which has no host IOMMU, takes it.
        CHECK(g.device_add(nic("net1", "pci.2")));
    }
}

TEST_CASE("A hot-plugged hostdev's host reserved regions reach the guest through PROBE and go with it on unplug")
{
    hw::virtio_iommu::HostIommuConstraints host{0x40201000, std::nullopt, {}, true};
    host.reserved.push_back({{Iova(0x10000000), Iova(0x1fffffff)}, hw::virtio_iommu::ResvMemSubtype::kReserved});
    LiveGuest g(with_hotplug_host("qemu-9.1", host), kernel("debian-12-6.12"));
    for (int round = 0; round < 2; ++round) {
        INFO("plug " << round);
        const auto added = g.device_add(hostdev("hostdev1", "pci.2"));
        REQUIRE(added);
        CHECK(has_host_region(g, added->qemu_endpoint));
        CHECK(std::find(added->reserved_regions.begin(), added->reserved_regions.end(),
                        "0x0000000010000000 0x000000001fffffff reserved") != added->reserved_regions.end());
        REQUIRE(g.device_del("hostdev1"));
        CHECK_FALSE(has_host_region(g, added->qemu_endpoint));
    }
}

TEST_CASE("A function on the root bus cannot be unplugged")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    CHECK(g.device_del("pci.2").error().message == "Bus 'pcie.0' does not support hotplugging");
}

TEST_CASE("An injected fault reaches the guest's driver, which logs it as viommu_fault_handler() does")
{
    LiveGuest g(guest_with_empty_ports(), kernel("debian-12-6.12"));
    hw::virtio_iommu::FaultRecord f;
    f.reason = hw::virtio_iommu::wire::kFaultRMapping;
    f.flags = hw::virtio_iommu::wire::kFaultFWrite | hw::virtio_iommu::wire::kFaultFAddress;
    f.endpoint = hw::virtio_iommu::EndpointId(0x100);
    f.address = 0xdead000;
    const uint64_t faults = g.report().iommu.faults;
    const std::string logged = g.inject_fault(f);
    CHECK(logged.find("page fault from EP 256 at 0xdead000 [W]") != std::string::npos);
    CHECK(g.report().iommu.faults == faults + 1);
}
