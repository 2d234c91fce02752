// What the QEMU peer is told: the endpoints a script names, and the -device arguments that give QEMU's
// virtio-iommu-pci those endpoints and our device options, or why QEMU 7.2 cannot be given them.
#include <catch2/catch.hpp>

#include "hw/virtio-iommu/device.h"
#include "system/replay/qemu_target.h"

using namespace viommu::system::replay;
namespace vi = viommu::hw::virtio_iommu;

namespace {

std::vector<Step> script(std::string_view text)
{
    auto steps = parse_script(text);
    REQUIRE(steps);
    return *steps;
}

// The device viommu-replay builds by default on x86: QEMU 7.2's values, the MSI window reserved.
vi::IommuConfig x86(std::vector<vi::EndpointRange> endpoints)
{
    vi::IommuConfig c;
    c.endpoints = std::move(endpoints);
    c.reserved = {vi::x86_msi_region()};
    return c;
}

vi::EndpointRange ids(uint32_t first, uint32_t last)
{
    return {vi::EndpointId(first), vi::EndpointId(last)};
}

} // namespace

TEST_CASE("the endpoints a script names come from its steps and from raw ATTACH, DETACH and PROBE requests",
          "[unit][replay][qemu]")
{
    // raw ATTACH of endpoint 0x20, raw PROBE of 0x21, a raw ATTACH too short to name one, an unknown type.
    const auto named = endpoints_named(script("attach 1 8\ndetach 1 9\nprobe 10\ndma 11 0 r\nmap 1 0 0xfff 0 r\n"
                                              "raw 0100000001000000200000000000000000000000\n"
                                              "raw 050000002100000000000000000000000000000000000000\n"
                                              "raw 0100000001000000\nraw 2a00000001000000ff000000\n"));
    CHECK(named == std::set<uint32_t>{8, 9, 10, 11, 0x20, 0x21});
}

TEST_CASE("QEMU gets its virtio-iommu-pci first, in a slot no named endpoint uses, and a device per existing "
          "endpoint named",
          "[unit][replay][qemu]")
{
    uint8_t devfn = 0;
    // 0x8 (01.0) and 0xa (01.2) exist; 0x10 (02.0) is named but does not exist: slot 2 stays empty but is
    // not the IOMMU's, which would make 0x10 a function QEMU knows.
    const auto devices = qemu_devices(x86({ids(8, 0xf)}), {8, 0xa, 0x10}, devfn);
    REQUIRE(devices);
    CHECK(devfn == 3 << 3);
    CHECK(*devices == std::vector<std::string>{"virtio-iommu-pci,addr=03.0,boot-bypass=on",
                                               "pci-testdev,addr=01.0,multifunction=on", "pci-testdev,addr=01.2"});
}

TEST_CASE("boot-bypass, the indirect-desc and event-idx switches and packed become QEMU's properties",
          "[unit][replay][qemu]")
{
    auto c = x86({ids(8, 8)});
    c.boot_bypass = false;
    c.withheld = viommu::virtio::feature(viommu::virtio::kFIndirectDesc) | viommu::virtio::feature(viommu::virtio::kFEventIdx);
    c.packed = true;
    uint8_t devfn = 0;
    const auto devices = qemu_devices(c, {8}, devfn);
    REQUIRE(devices);
    CHECK(devices->front() == "virtio-iommu-pci,addr=02.0,boot-bypass=off,indirect_desc=off,event_idx=off,packed=on");
}

TEST_CASE("device options QEMU 7.2's virtio-iommu-pci has no property for are refused, saying why", "[unit][replay][qemu]")
{
    uint8_t devfn = 0;
    const auto refused = [&](const vi::IommuConfig& c) {
        const auto d = qemu_devices(c, {8}, devfn);
        REQUIRE_FALSE(d);
        return d.error();
    };
    auto c = x86({ids(8, 8)});
    c.page_size_mask = ~uint64_t{0};
    CHECK_THAT(refused(c), Catch::Contains("QEMU 7.2 cannot be given another granule"));
    c = x86({ids(8, 8)});
    c.input_end = (uint64_t{1} << 48) - 1;
    CHECK_THAT(refused(c), Catch::Contains("QEMU 7.2 cannot be given an input range"));
    c = x86({ids(8, 8)});
    c.domain_end = 1023;
    CHECK_THAT(refused(c), Catch::Contains("QEMU 7.2 cannot be given a domain range"));
    c = x86({ids(8, 8)});
    c.limits.max_domains = 3;
    CHECK_THAT(refused(c), Catch::Contains("no limits"));
    c = x86({ids(8, 8)});
    c.reserved.clear(); // --platform arm
    CHECK_THAT(refused(c), Catch::Contains("exactly the MSI window"));
    c = x86({ids(8, 8)});
    c.withheld = viommu::virtio::feature(VIRTIO_IOMMU_F_MAP_UNMAP);
    CHECK_THAT(refused(c), Catch::Contains("QEMU 7.2 cannot be given a virtio-iommu feature to withhold"));
    c.withheld = viommu::virtio::feature(viommu::virtio::kFRingReset);
    CHECK_THAT(refused(c), Catch::Contains("only indirect-desc and event-idx"));
}

TEST_CASE("an endpoint QEMU cannot be given is refused: off the root bus, or beside q35's built-in functions",
          "[unit][replay][qemu]")
{
    uint8_t devfn = 0;
    const auto bus1 = qemu_devices(x86({ids(0, 0xffff)}), {0x100}, devfn);
    REQUIRE_FALSE(bus1);
    CHECK_THAT(bus1.error(), Catch::Contains("on bus 0x1"));
    const auto beside = qemu_devices(x86({ids(0, 0xffff)}), {0xf9}, devfn);
    REQUIRE_FALSE(beside);
    CHECK_THAT(beside.error(), Catch::Contains("00:1f.1"));
    // Named but absent on both sides: nothing to give QEMU, nothing refused.
    CHECK(qemu_devices(x86({ids(8, 8)}), {8, 0x100, 0xf9}, devfn));
}

TEST_CASE("an endpoint ID beyond 16 bits is refused: QEMU would take its low 16 bits, which is not modelled",
          "[unit][replay][qemu]")
{
    uint8_t devfn = 0;
    const auto wide = qemu_devices(x86({ids(8, 8)}), {8, 0x10008}, devfn);
    REQUIRE_FALSE(wide);
    CHECK_THAT(wide.error(), Catch::Contains("endpoint 0x10008, beyond 16 bits") && Catch::Contains("not model"));
}

TEST_CASE("q35's host bridge and ICH9 functions are QEMU's endpoints already: they get no device and cannot be absent",
          "[unit][replay][qemu]")
{
    uint8_t devfn = 0;
    const auto devices = qemu_devices(x86({ids(0, 0xff)}), {0x00, 0xf8, 0xfa, 0xfb}, devfn);
    REQUIRE(devices);
    CHECK(*devices == std::vector<std::string>{"virtio-iommu-pci,addr=01.0,boot-bypass=on"});
    const auto absent = qemu_devices(x86({ids(8, 8)}), {0xfa}, devfn);
    REQUIRE_FALSE(absent);
    CHECK_THAT(absent.error(), Catch::Contains("cannot be absent"));
}
