// Host IOMMU constraints of an assigned device (hw/virtio-iommu/host_constraints.h): the page-size mask
// QEMU's virtio_iommu_set_page_size_mask() narrows and, once the granule is frozen, checks; the host's
// reserved regions and address width as QEMU 9.x's "Compute host reserved regions" turns them into
// RESV_MEM of that endpoint.
#include <catch2/catch.hpp>

#include "guest-model/virtio-iommu/probe_properties.h"
#include "tests/support/iommu_fixture.h"
#include "tests/support/probe_reply.h"

using namespace viommu;
using namespace viommu::test;
using hw::virtio_iommu::EndpointId;
using hw::virtio_iommu::HostIommuConstraints;
using hw::virtio_iommu::ResvMemSubtype;
namespace probe = guest::virtio_iommu::probe;

namespace {

constexpr uint64_t k4k = ~uint64_t{0xfff};
constexpr uint64_t k64k = ~uint64_t{0xffff};
constexpr uint64_t kHost4k2m1g = 0x40201000; // an x86 host IOMMU: 4 KiB, 2 MiB and 1 GiB pages

hw::virtio_iommu::IommuConfig config_for(std::string_view profile)
{
    auto c = test_config();
    c.use_profile(hw::virtio_iommu::find_device_profile(profile)->behaviour);
    return c;
}

HostIommuConstraints host_mask(uint64_t mask)
{
    HostIommuConstraints h;
    h.page_size_mask = mask;
    return h;
}


} // namespace

TEST_CASE("Before the machine is ready a host page-size mask narrows page_size_mask (QEMU 7.2 "
          "virtio_iommu_set_page_size_mask())",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g(test_config(), {}, false);
    const auto notes = g.device.plug_host_device(EndpointId(8), host_mask(kHost4k2m1g));
    REQUIRE(notes);
    CHECK(notes->empty());
    REQUIRE(g.client.bring_up());
    CHECK(g.client.read_config().page_size_mask == kHost4k2m1g);
}

TEST_CASE("A host mask with no page size in common is refused in the words of QEMU 7.2", "[conformance][virtio-iommu][host]")
{
    IommuGuest g(config_for("qemu-7.2"), {}, false);
    const auto refused = g.device.plug_host_device(EndpointId(8), host_mask(0x800));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == "virtio-iommu page mask 0xfffffffffffff000 is incompatible with mask 0x800");
    CHECK(g.device.config().page_size_mask == k4k); // nothing changed
}

TEST_CASE("A host mask with no page size in common is refused in the words of QEMU 9.1 under the spec and 9.1",
          "[conformance][virtio-iommu][host]")
{
    for (const char* profile : {"spec", "qemu-9.1"}) {
        IommuGuest g(config_for(profile), {}, false);
        const auto refused = g.device.plug_host_device(EndpointId(8), host_mask(0x800));
        REQUIRE_FALSE(refused);
        CHECK(refused.error() ==
              "virtio-iommu reports a page size mask 0x800 incompatible with currently supported mask 0xfffffffffffff000");
    }
}

TEST_CASE("Once the machine is ready QEMU 7.2 admits only a host mask with the same granule, and warns when it "
          "differs above it",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g(config_for("qemu-7.2"), {}, false);
    g.device.machine_ready();
    const auto refused = g.device.plug_host_device(EndpointId(0x10), host_mask(k64k));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == "virtio-iommu page mask 0xfffffffffffff000 is incompatible with mask 0xffffffffffff0000");
    const auto admitted = g.device.plug_host_device(EndpointId(0x11), host_mask(kHost4k2m1g));
    REQUIRE(admitted);
    REQUIRE(admitted->size() == 1);
    CHECK(admitted->front() == "virtio-iommu page mask 0xfffffffffffff000 does not match 0x40201000");
    CHECK(g.device.config().page_size_mask == k4k); // frozen: checked, not narrowed
}

TEST_CASE("Once the granule is frozen QEMU 9.1 admits a host mask that holds it and refuses one that does not",
          "[conformance][virtio-iommu][host]")
{
    auto c = config_for("qemu-9.1");
    c.page_size_mask = k64k; // a 64 KiB granule, as a 64 KiB host's cold-plugged device left it
    IommuGuest g(c, {}, false);
    g.device.machine_ready();
    // 4 KiB and every larger size: it holds 64 KiB, which QEMU 7.2's same-granule rule would refuse.
    CHECK(g.device.plug_host_device(EndpointId(0x10), host_mask(k4k)));
    const auto refused = g.device.plug_host_device(EndpointId(0x11), host_mask(kHost4k2m1g));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == "virtio-iommu does not support frozen granule 0x10000");
}

TEST_CASE("A driver that has negotiated has read page_size_mask: the granule is frozen from FEATURES_OK",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g(config_for("qemu-7.2"));
    CHECK(g.device.granule_frozen());
    CHECK_FALSE(g.device.plug_host_device(EndpointId(0x10), host_mask(k64k)));
    CHECK(g.client.read_config().page_size_mask == k4k);
}

TEST_CASE("Host reserved regions become RESV_MEM RESERVED of that endpoint alone", "[conformance][virtio-iommu][host]")
{
    IommuGuest g(test_config(), {}, false);
    HostIommuConstraints h;
    h.reserved = {{{Iova(0x10000000), Iova(0x1fffffff)}, ResvMemSubtype::kReserved}};
    REQUIRE(g.device.plug_host_device(EndpointId(8), h));
    REQUIRE(g.client.bring_up());
    const auto at_8 = probe_properties_of<probe::ResvMem>(g, 8);
    REQUIRE(at_8.size() == 2);
    CHECK(at_8[1] == probe::ResvMem{VIRTIO_IOMMU_RESV_MEM_T_RESERVED, 0x10000000, 0x1fffffff});
    CHECK(probe_properties_of<probe::ResvMem>(g, 0x10).size() == 1); // the MSI window alone
}

TEST_CASE("The host's address width reserves what lies above 2^aw-bits; input_range stays (QEMU never narrows it "
          "from the host)",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g(test_config(), {}, false);
    HostIommuConstraints h;
    h.aw_bits = 48;
    REQUIRE(g.device.plug_host_device(EndpointId(8), h));
    REQUIRE(g.client.bring_up());
    const auto at_8 = probe_properties_of<probe::ResvMem>(g, 8);
    REQUIRE(at_8.size() == 2);
    CHECK(at_8[1] == probe::ResvMem{VIRTIO_IOMMU_RESV_MEM_T_RESERVED, uint64_t{1} << 48, UINT64_MAX});
    CHECK(g.client.read_config().input_range.end == UINT64_MAX);
}

TEST_CASE("The machine's reserved regions win: a host range over the MSI window is cut around it "
          "(rebuild_resv_regions())",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g(test_config(), {}, false);
    HostIommuConstraints h;
    h.reserved = {{{Iova(0xfe000000), Iova(0xffffffff)}, ResvMemSubtype::kReserved}};
    REQUIRE(g.device.plug_host_device(EndpointId(8), h));
    REQUIRE(g.client.bring_up());
    const auto at_8 = probe_properties_of<probe::ResvMem>(g, 8);
    REQUIRE(at_8.size() == 3);
    CHECK(at_8[0] == probe::ResvMem{VIRTIO_IOMMU_RESV_MEM_T_MSI, 0xfee00000, 0xfeefffff});
    CHECK(at_8[1] == probe::ResvMem{VIRTIO_IOMMU_RESV_MEM_T_RESERVED, 0xfe000000, 0xfedfffff});
    CHECK(at_8[2] == probe::ResvMem{VIRTIO_IOMMU_RESV_MEM_T_RESERVED, 0xfef00000, 0xffffffff});
}

TEST_CASE("QEMU 7.2 learns no host reserved regions or address width: noted, PROBE unchanged",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g(config_for("qemu-7.2"), {}, false);
    HostIommuConstraints h;
    h.aw_bits = 39;
    h.reserved = {{{Iova(0x10000000), Iova(0x1fffffff)}, ResvMemSubtype::kReserved}};
    const auto notes = g.device.plug_host_device(EndpointId(8), h);
    REQUIRE(notes);
    REQUIRE(notes->size() == 1);
    CHECK_THAT(notes->front(), Catch::StartsWith("QEMU 7.2 learns no reserved regions or address width of the host"));
    REQUIRE(g.client.bring_up());
    CHECK(probe_properties_of<probe::ResvMem>(g, 8).size() == 1);
}

TEST_CASE("QEMU 9.1 reports every host reserved region as RESERVED, an MSI one included", "[conformance][virtio-iommu][host]")
{
    IommuGuest g(config_for("qemu-9.1"), {}, false);
    HostIommuConstraints h;
    h.reserved = {{{Iova(0x8000000), Iova(0x80fffff)}, ResvMemSubtype::kMsi}};
    const auto notes = g.device.plug_host_device(EndpointId(8), h);
    REQUIRE(notes);
    CHECK(notes->size() == 1);
    REQUIRE(g.client.bring_up());
    const auto at_8 = probe_properties_of<probe::ResvMem>(g, 8);
    REQUIRE(at_8.size() == 2);
    CHECK(at_8[1] == probe::ResvMem{VIRTIO_IOMMU_RESV_MEM_T_RESERVED, 0x8000000, 0x80fffff});
}

TEST_CASE("A device hot-plugged at a new requester ID makes that endpoint exist, with its host reserved regions",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g;
    g.device.machine_ready();
    HostIommuConstraints h = host_mask(kHost4k2m1g);
    h.reserved = {{{Iova(0x10000000), Iova(0x1fffffff)}, ResvMemSubtype::kReserved}};
    REQUIRE(g.device.plug_host_device(EndpointId(0x20), h));
    const auto at_20 = probe_properties_of<probe::ResvMem>(g, 0x20);
    REQUIRE(at_20.size() == 2);
    CHECK(at_20[1].start == 0x10000000);
}

TEST_CASE("No device is plugged at an endpoint attached to a domain", "[conformance][virtio-iommu][host]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    const auto refused = g.device.plug_host_device(EndpointId(8), host_mask(k4k));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == "endpoint 0x8 is attached to domain 1: no device can be plugged there");
}

TEST_CASE("Host reserved regions that do not fit probe_size refuse the device", "[conformance][virtio-iommu][host]")
{
    IommuGuest g(test_config(), {}, false);
    HostIommuConstraints h;
    for (uint64_t i = 0; i < 21; ++i) // 22 regions of 24 bytes with the MSI window: 528 > 512
        h.reserved.push_back({{Iova(0x10000000 + i * 0x10000), Iova(0x10000fff + i * 0x10000)}, ResvMemSubtype::kReserved});
    const auto refused = g.device.plug_host_device(EndpointId(8), h);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == "endpoint 0x8's 528 bytes of PROBE properties do not fit probe_size 512");
}

TEST_CASE("Unplugging a device drops its host reserved regions, also while its endpoint stays attached (QEMU 9.1 "
          "unset_iommu_device(), 62ac01d1de50)",
          "[conformance][virtio-iommu][host]")
{
    IommuGuest g;
    g.device.machine_ready();
    for (const uint32_t ep : {0x20u, 0x21u}) {
        HostIommuConstraints h;
        h.reserved = {{{Iova(ep << 24), Iova((ep << 24) + 0xffffff)}, ResvMemSubtype::kReserved}};
        REQUIRE(g.device.plug_host_device(EndpointId(ep), h));
        REQUIRE(g.client.attach(1, ep) == VIRTIO_IOMMU_S_OK);
    }
    constexpr uint8_t kRead = VIRTIO_IOMMU_MAP_F_READ;
    REQUIRE(g.client.map(1, 0x20000000, 0x20000fff, 0, kRead) == VIRTIO_IOMMU_S_INVAL);
    // A 6.1 guest sends no DETACH on release (809d0810e352 came in 6.5): the endpoint is still attached.
    g.device.unplug_host_device(EndpointId(0x20));
    CHECK(probe_properties_of<probe::ResvMem>(g, 0x20).size() == 1); // the MSI window alone
    CHECK(g.client.map(1, 0x20000000, 0x20000fff, 0, kRead) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(1, 0x21000000, 0x21000fff, 0, kRead) == VIRTIO_IOMMU_S_INVAL); // the other device's stay
    CHECK(g.client.map(1, 0xfee00000, 0xfee00fff, 0, kRead) == VIRTIO_IOMMU_S_INVAL);
}
