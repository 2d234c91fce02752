// system/truth/probe_records.h: truth-probe's console lines, parsed once into typed records.
#include <catch2/catch.hpp>

#include "system/truth/probe_records.h"

using namespace viommu::system::truth;

namespace {

std::string console(const std::string& records)
{
    return "[    1.000000] Linux version 6.12.118+deb12-amd64 (debian-kernel@lists.debian.org)\r\n"
           "VIOMMU-TRUTH-BEGIN\r\n" + records + "VIOMMU-TRUTH-END\r\n";
}

} // namespace

TEST_CASE("a console without the probe's markers is a failed boot, said so", "[unit][truth]")
{
    const auto out = parse_probe_output("[    0.000000] Kernel panic - not syncing\n");
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error(), Catch::Contains("VIOMMU-TRUTH-BEGIN"));
}

TEST_CASE("a line between the markers that is not a probe record is an error naming its line", "[unit][truth]")
{
    const auto out = parse_probe_output(console("{\"kind\":\"pci\",\"bdf\":\"0000:00:00.0\"\nnot json\n"));
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error(), Catch::Contains("console line 3"));
}

TEST_CASE("a virtio function's driver is its PCI driver and its virtio driver", "[unit][truth]")
{
    const auto out = parse_probe_output(console(
        R"({"kind":"pci","bdf":"0000:01:00.0","vendor":"0x1af4","device":"0x1041","class":"0x020000","driver":"virtio-pci","group":5})" "\n"
        R"({"kind":"group","group":5,"type":"DMA-FQ","reserved_regions":["0x00000000fee00000 0x00000000feefffff msi"]})" "\n"
        R"({"kind":"virtio","name":"virtio1","device_id":"0x0001","pci":"0000:01:00.0","driver":"virtio_net","features":"01"})" "\n"));
    REQUIRE(out);
    const Observation o = observation_from_probe(*out);
    REQUIRE(o.devices.size() == 1);
    CHECK(o.devices[0].driver == "virtio-pci/virtio_net");
    CHECK(o.devices[0].group == 5);
    CHECK(o.devices[0].domain == "DMA-FQ");
    CHECK(o.devices[0].reserved_regions == std::vector<std::string>{"0x00000000fee00000 0x00000000feefffff msi"});
}

TEST_CASE("sysfs features are one character per bit, bit 0 first", "[unit][truth]")
{
    const auto out = parse_probe_output(console(
        R"({"kind":"virtio","name":"virtio0","device_id":"0x0017","pci":"0000:00:03.0","driver":"virtio_iommu","features":"1100000000000000000000000000000000000000100000000000000000000000"})" "\n"));
    REQUIRE(out);
    const Observation o = observation_from_probe(*out);
    CHECK(o.features == 0x10000000003ull);
    CHECK(o.iommu_device == "virtio0");
    CHECK(o.iommu_driver_ready);
}

TEST_CASE("a failed vfio-pci bind takes its errno from the kernel's probe warning", "[unit][truth]")
{
    const auto out = parse_probe_output(console(
        R"({"kind":"vfio","bdf":"0000:05:01.0","steps":[{"step":"driver_override","errno":0},{"step":"drivers_probe","errno":0}],"driver":"","group":null,"viable":null})" "\n"
        R"({"kind":"pci","bdf":"0000:05:01.0","vendor":"0x1234","device":"0x11e8","class":"0x00ff00","driver":"","group":null})" "\n"
        R"({"kind":"kmsg","usec":1,"text":"vfio-pci 0000:05:01.0: probe with driver vfio-pci failed with error -22"})" "\n"));
    REQUIRE(out);
    const Observation o = observation_from_probe(*out);
    REQUIRE(o.devices[0].vfio);
    CHECK_FALSE(o.devices[0].vfio->admitted);
    CHECK(o.devices[0].vfio->stage == "bind vfio-pci");
    CHECK(o.devices[0].vfio->error == 22);
}

TEST_CASE("Debian's 6.1 words the failed probe as 'probe of BDF failed', with the same errno", "[unit][truth]")
{
    const auto out = parse_probe_output(console(
        R"({"kind":"vfio","bdf":"0000:03:00.0","steps":[{"step":"driver_override","errno":0},{"step":"drivers_probe","errno":0}],"driver":"","group":null,"viable":null})" "\n"
        R"({"kind":"pci","bdf":"0000:03:00.0","vendor":"0x1234","device":"0x11e8","class":"0x00ff00","driver":"","group":null})" "\n"
        R"({"kind":"kmsg","usec":1,"text":"vfio-pci: probe of 0000:03:00.0 failed with error -22"})" "\n"));
    REQUIRE(out);
    const Observation o = observation_from_probe(*out);
    REQUIRE(o.devices[0].vfio);
    CHECK(o.devices[0].vfio->error == 22);
}

TEST_CASE("the first VFIO step that fails is the stage, with its errno", "[unit][truth]")
{
    const auto out = parse_probe_output(console(
        R"({"kind":"vfio","bdf":"0000:03:00.0","steps":[{"step":"driver_override","errno":0},{"step":"drivers_probe","errno":0},{"step":"open group","errno":0},{"step":"VFIO_GROUP_GET_STATUS","errno":0},{"step":"open /dev/vfio/vfio","errno":0},{"step":"VFIO_GROUP_SET_CONTAINER","errno":0},{"step":"VFIO_SET_IOMMU","errno":1}],"driver":"vfio-pci","group":9,"viable":true})" "\n"
        R"({"kind":"pci","bdf":"0000:03:00.0","vendor":"0x1234","device":"0x11e8","class":"0x00ff00","driver":"vfio-pci","group":9})" "\n"));
    REQUIRE(out);
    const Observation o = observation_from_probe(*out);
    REQUIRE(o.devices[0].vfio);
    CHECK(o.devices[0].vfio->stage == "VFIO_SET_IOMMU");
    CHECK(o.devices[0].vfio->error == 1);
}

TEST_CASE("the kernel's release comes from its banner", "[unit][truth]")
{
    const auto out = parse_probe_output(console(
        R"({"kind":"kmsg","usec":0,"text":"Linux version 6.12.118+deb12-amd64 (debian-kernel@lists.debian.org) gcc-12"})" "\n"));
    REQUIRE(out);
    CHECK(kernel_release(*out) == "6.12.118+deb12-amd64");
}
