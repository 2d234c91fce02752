// The domain IDs the guest's virtio-iommu driver puts in its ATTACH requests, as the device's
// virtio_iommu_attach trace point records them, across the releases that change how they are chosen.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include <linux/virtio_iommu.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "base/trace/trace.h"
#include "system/boot/guest.h"
#include "tests/support/guest_specs.h"

using namespace viommu;
using namespace viommu::guest;
using namespace viommu::system::boot;
using viommu::test::SpecBuilder;

namespace {

// The ATTACH requests the device saw during one boot, one "virtio_iommu_attach ..." line each.
std::vector<std::string> attaches(const GuestSpec& spec, const std::string& kernel)
{
    auto profile = profiles::Profile::load(kernel);
    REQUIRE(profile);
    std::ostringstream out;
    const std::shared_ptr<spdlog::logger> previous = trace::sink();
    auto logger = std::make_shared<spdlog::logger>("attach-trace", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    trace::set_sink(logger);
    REQUIRE(trace::enable("virtio_iommu_attach").matched == 1);
    const GuestReport r = boot_guest(spec, *profile);
    trace::disable_all();
    trace::set_sink(previous);
    REQUIRE(r.iommu.driver_ready);
    std::vector<std::string> lines;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

SpecBuilder two_endpoints()
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.add("virtio-blk", pci::Kind::kEndpoint, Role::kVirtioBlk, 5);
    return b;
}

} // namespace

TEST_CASE("From 6.16 (0d76a6edae9e) the first domain ID is kept for bypass: DMA domains start one above it",
          "[boot][domain-ids]")
{
    // The device offers BYPASS_CONFIG and a domain range from 0; 6.14 is the last release that still
    // finds its instance and does not reserve (6.15 to 6.16.3 make no groups at all).
    SpecBuilder b = two_endpoints();
    const auto before = attaches(b.spec(), "6.14");
    const auto after = attaches(b.spec(), "6.17");
    REQUIRE_FALSE(before.empty());
    REQUIRE(after.size() == before.size());
    CHECK(before.front().starts_with("virtio_iommu_attach domain=0 "));
    CHECK(after.front().starts_with("virtio_iommu_attach domain=1 "));
    for (const std::string& line : after)
        CHECK(line.find("domain=0 ") == std::string::npos);
}

TEST_CASE("Without BYPASS_CONFIG nothing is reserved: 6.17's DMA domains start at the range's first ID",
          "[boot][domain-ids]")
{
    SpecBuilder b = two_endpoints();
    b.spec().iommu.withheld_features = virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
    CHECK(attaches(b.spec(), "6.17").front().starts_with("virtio_iommu_attach domain=0 "));
}

TEST_CASE("In passthrough, 6.16 on attaches every endpoint to the one reserved bypass domain; before, each group "
          "had an identity domain with its own ID",
          "[boot][domain-ids][identity]")
{
    SpecBuilder b = two_endpoints();
    b.spec().cmdline.passthrough = true;
    const auto before = attaches(b.spec(), "6.14");
    const auto after = attaches(b.spec(), "6.17");
    REQUIRE(before.size() >= 2);
    REQUIRE(after.size() == before.size());
    CHECK(before[0].starts_with("virtio_iommu_attach domain=0 "));
    CHECK(before[1].starts_with("virtio_iommu_attach domain=1 "));
    for (const std::string& line : after)
        CHECK(line.starts_with("virtio_iommu_attach domain=0 "));
    // Every one of them an identity domain, which the driver ATTACHes with F_BYPASS (QEMU's attach trace
    // point has no flags: the device's state says it).
    for (const char* kernel : {"6.14", "6.17"}) {
        const GuestReport r = boot_guest(b.spec(), *profiles::Profile::load(kernel));
        for (const char* bdf : {"0000:00:04.0", "0000:00:05.0"}) {
            const auto d = std::find_if(r.devices.begin(), r.devices.end(),
                                        [&](const DeviceReport& x) { return x.bdf == bdf; });
            REQUIRE(d != r.devices.end());
            CHECK(d->domain == "identity");
        }
    }
}
