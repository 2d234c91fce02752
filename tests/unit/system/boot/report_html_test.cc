// The HTML reports (viommu-boot --html): self-contained, every input escaped, the verdicts coloured.
#include <catch2/catch.hpp>

#include "system/boot/report_html.h"

using namespace viommu::system::boot;
using namespace viommu::guest;

namespace {
GuestReport rejected_hostdev()
{
    GuestReport r;
    r.guest = "g<script>";
    r.kernel = "debian-12-6.12";
    r.kernel_version = "6.12.117";
    r.iommu.present = true;
    DeviceReport port;
    port.bdf = "0000:00:02.0";
    port.label = "pcie-root-port";
    port.group = 0;
    port.domain = "DMA-FQ";
    DeviceReport d;
    d.bdf = "0000:01:00.0";
    d.parent = port.bdf;
    d.label = "hostdev";
    d.group = 1;
    vfio::Verdict v;
    v.stage = vfio::Stage::kSetIommu;
    v.error = 1;
    v.rule = vfio::Rule::kType1IsolatedMsi;
    v.commit = "6b1a7a00427c";
    d.vfio = v;
    r.devices = {port, d};
    return r;
}
} // namespace

TEST_CASE("An HTML report loads nothing from outside the page", "[unit][html]")
{
    for (const std::string& html : {render_html(rejected_hostdev()), render_matrix_html(KernelMatrix{}),
                                    render_batch_html({})}) {
        CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
        CHECK(html.find("src=") == std::string::npos);
        CHECK(html.find("href=") == std::string::npos);
        CHECK(html.find("http") == std::string::npos);
    }
}

TEST_CASE("Text from the domain XML is escaped, never markup", "[unit][html]")
{
    const std::string html = render_html(rejected_hostdev());
    CHECK(html.find("g<script>") == std::string::npos);
    CHECK(html.find("g&lt;script&gt;") != std::string::npos);
    CHECK(html_escape("a&b\"'\x1b") == "a&amp;b&quot;&#39;&#xfffd;");
}

TEST_CASE("The guest report nests a device under its bridge and cards its verdict with the rule's commit",
          "[unit][html]")
{
    const std::string html = render_html(rejected_hostdev());
    const auto port = html.find("<code>0000:00:02.0</code>");
    const auto nested = html.find("<ul>", port);
    const auto hostdev = html.find("<code>0000:01:00.0</code>");
    CHECK(port < nested);
    CHECK(nested < hostdev);
    CHECK(html.find("class=\"rejected\" data-verdict=\"0000:01:00.0\">rejected: VFIO_SET_IOMMU EPERM") != std::string::npos);
    CHECK(html.find("commit <code>6b1a7a00427c</code>") != std::string::npos);
    CHECK(html.find("data-group=\"1\"") != std::string::npos);
}

TEST_CASE("The kernel matrix colours each cell by its verdict", "[unit][html]")
{
    KernelMatrix m;
    m.guest = "g";
    m.kernels = {"5.18", "6.12"};
    m.rows = {{"0000:01:00.0", "hostdev", {"ok!", "EPERM@SET_IOMMU"}, {3, 4}}};
    const std::string html = render_matrix_html(m);
    CHECK(html.find("<td class=\"unsafe\" data-kernel=\"5.18\">ok! <sub>3</sub></td>") != std::string::npos);
    CHECK(html.find("<td class=\"rejected\" data-kernel=\"6.12\">EPERM@SET_IOMMU <sub>4</sub></td>") != std::string::npos);
}

TEST_CASE("The batch page has a filter per status with its count", "[unit][html]")
{
    const std::string html = render_batch_html({{"a.xml", "a", "rejected", ""}, {"b.xml", "b", "rejected", ""},
                                                {"c.xml", "c", "bad-input", "not XML"}});
    CHECK(html.find("data-status=\"rejected\"> rejected (2)") != std::string::npos);
    CHECK(html.find("data-status=\"bad-input\"> bad-input (1)") != std::string::npos);
}
