// The report's two forms: the table viommu-boot prints and the JSON it writes (docs/boot.md).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "system/boot/report_format.h"

using namespace viommu::guest;
using namespace viommu::guest::profiles;


using namespace viommu::system::boot;
using namespace viommu::guest;

namespace {
GuestReport sample()
{
    GuestReport r;
    r.guest = "g";
    r.kernel = "debian-12-6.12";
    r.kernel_version = "6.12.117";
    r.iommu.present = true;
    DeviceReport d;
    d.bdf = "0000:00:06.0";
    d.label = "hostdev";
    d.group = 3;
    d.linux_ids = {0x30};
    d.qemu_endpoint = 0x30;
    d.behind_iommu = true;
    vfio::Verdict v;
    v.stage = vfio::Stage::kSetIommu;
    v.error = 1;
    v.rule = vfio::Rule::kType1IsolatedMsi;
    v.commit = "6b1a7a00427c";
    v.reason = "MSIs are not isolated";
    v.remedies = {"allow_unsafe_interrupts=1"};
    d.vfio = v;
    r.devices.push_back(d);
    return r;
}
} // namespace

TEST_CASE("A rejected VFIO device makes the exit code 1, and the table says where and why", "[unit][report]")
{
    const GuestReport r = sample();
    CHECK(r.exit_code() == 1);
    const std::string table = render_table(r);
    CHECK(table.find("rejected: VFIO_SET_IOMMU EPERM") != std::string::npos);
    CHECK(table.find("rule:   vfio.type1_isolated_msi (6b1a7a00427c)") != std::string::npos);
    CHECK(table.find("change: allow_unsafe_interrupts=1") != std::string::npos);
}

TEST_CASE("The JSON report carries the schema, the verdict and null for what is absent", "[unit][report]")
{
    GuestReport r = sample();
    r.devices.push_back(DeviceReport{});
    const auto j = nlohmann::json::parse(render_json(r));
    CHECK(j["schema"] == kReportSchema);
    CHECK(j["exit_code"] == 1);
    CHECK(j["devices"][0]["vfio"]["error"] == "EPERM");
    CHECK(j["devices"][0]["vfio"]["stage"] == "VFIO_SET_IOMMU");
    CHECK(j["devices"][1]["group"].is_null());
    CHECK(j["devices"][1]["vfio"].is_null());
}

TEST_CASE("An errno the table does not name is printed as a number", "[unit][report]")
{
    CHECK(errno_text(1) == "EPERM");
    CHECK(errno_text(4242) == "errno 4242");
}

TEST_CASE("A guest that is not modelled is one line naming it and why, and JSON with exit code 3", "[unit][report]")
{
    CHECK(render_not_modelled("g\x1b", "<iommu model='intel'> is an intel-iommu") ==
          "guest g\\x1b: not modelled: <iommu model='intel'> is an intel-iommu\n");
    const auto j = nlohmann::json::parse(render_not_modelled_json("g", "why"));
    CHECK(j == nlohmann::json{{"schema", kReportSchema}, {"guest", "g"}, {"exit_code", 3}, {"not_modelled", "why"}});
}

TEST_CASE("The report names the guest's architecture and what describes the machine: ACPI or a device tree",
          "[unit][report]")
{
    GuestReport r = sample();
    CHECK(render_table(r).rfind("guest g on Linux 6.12.117 (debian-12-6.12), x86_64, ACPI\n", 0) == 0);
    CHECK(nlohmann::json::parse(render_json(r))["firmware_tables"] == "acpi");
    r.arch = Arch::kAarch64;
    r.tables = FirmwareTables::kDeviceTree;
    CHECK(render_table(r).rfind("guest g on Linux 6.12.117 (debian-12-6.12), aarch64, device tree\n", 0) == 0);
    const auto j = nlohmann::json::parse(render_json(r));
    CHECK(j["arch"] == "aarch64");
    CHECK(j["firmware_tables"] == "device-tree");
}
