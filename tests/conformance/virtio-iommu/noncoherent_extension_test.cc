// viommu's experimental non-coherent DMA extension, device side: NOT FROM ANY PUBLISHED SPEC
// (docs/noncoherent-extension.md). Off by default; when on, the feature bit is offered and a PROBE of a
// non-coherent endpoint carries the property to a driver that negotiated the bit, and only to it.
#include <catch2/catch.hpp>

#include <algorithm>

#include "guest-model/virtio-iommu/probe_properties.h"
#include "guest-model/virtio-iommu/x_noncoherent.h"
#include "hw/virtio-iommu/wire.h"
#include "tests/support/iommu_fixture.h"
#include "tests/support/probe_reply.h"

using namespace viommu;
using namespace viommu::test;
using hw::virtio_iommu::EndpointId;
using hw::virtio_iommu::HostIommuConstraints;
namespace probe = guest::virtio_iommu::probe;

namespace {

HostIommuConstraints noncoherent_host()
{
    HostIommuConstraints h;
    h.coherent = false;
    return h;
}


hw::virtio_iommu::IommuConfig with_extension()
{
    auto c = test_config();
    c.x_noncoherent = true;
    return c;
}

} // namespace

TEST_CASE("The device and the driver model agree on the extension's bit, type and flag", "[conformance][virtio-iommu][x-noncoherent]")
{
    STATIC_REQUIRE(hw::virtio_iommu::wire::kFXNoncoherent == guest::virtio_iommu::x_noncoherent::kFeature);
    STATIC_REQUIRE(hw::virtio_iommu::wire::kProbeTXNoncoherent == guest::virtio_iommu::x_noncoherent::kProbeType);
    STATIC_REQUIRE(hw::virtio_iommu::wire::kXNoncoherentFNoSnoop == guest::virtio_iommu::x_noncoherent::kFlagNoSnoop);
    // Outside what virtio v1.2 assigns: feature bits 0-6 (§5.13.3), property types 0-1 (§5.13.6.8).
    STATIC_REQUIRE(hw::virtio_iommu::wire::kFXNoncoherent > hw::virtio_iommu::wire::kFBypassConfig);
    STATIC_REQUIRE(hw::virtio_iommu::wire::kProbeTXNoncoherent > hw::virtio_iommu::wire::kProbeTResvMem);
}

TEST_CASE("Without the device option the extension is not offered and no endpoint is marked", "[conformance][virtio-iommu][x-noncoherent]")
{
    IommuGuest g(test_config(), {}, false);
    const auto notes = g.device.plug_host_device(EndpointId(8), noncoherent_host());
    REQUIRE(notes);
    REQUIRE(notes->size() == 1);
    CHECK_THAT(notes->front(), Catch::Contains("does not offer the experimental non-coherent extension"));
    REQUIRE(g.client.bring_up());
    CHECK_FALSE(g.device.device_features() & virtio::feature(hw::virtio_iommu::wire::kFXNoncoherent));
    CHECK(probe_properties_of<probe::Unparsed>(g, 8).empty());
}

TEST_CASE("With the option on, a non-coherent endpoint's PROBE carries the property to a driver that negotiated it",
          "[conformance][virtio-iommu][x-noncoherent]")
{
    IommuGuest g(with_extension(), {}, false);
    REQUIRE(g.device.plug_host_device(EndpointId(8), noncoherent_host()));
    REQUIRE(g.client.bring_up());
    CHECK(g.client.driver().negotiated() & virtio::feature(hw::virtio_iommu::wire::kFXNoncoherent));
    const auto at_8 = probe_properties_of<probe::Unparsed>(g, 8);
    REQUIRE(at_8.size() == 1);
    CHECK(at_8[0] == probe::Unparsed{0x800, 4});
    const auto reply = g.client.probe(8);
    REQUIRE(reply);
    CHECK(reply->written[24 + 4] == 1); // flags, after the MSI window's RESV_MEM and the header: NO_SNOOP
    CHECK(probe_properties_of<probe::Unparsed>(g, 0x10).empty()); // a coherent endpoint
}

TEST_CASE("A driver that does not negotiate the extension gets no property", "[conformance][virtio-iommu][x-noncoherent]")
{
    IommuGuest g(with_extension(), {}, false);
    REQUIRE(g.device.plug_host_device(EndpointId(8), noncoherent_host()));
    guest::virtio_iommu::IommuRequestClient::Options options;
    options.accept = ~virtio::feature(hw::virtio_iommu::wire::kFXNoncoherent);
    REQUIRE(g.client.bring_up(options));
    CHECK(probe_properties_of<probe::Unparsed>(g, 8).empty());
}

TEST_CASE("No QEMU release can be given the extension", "[conformance][virtio-iommu][x-noncoherent]")
{
    auto c = with_extension();
    c.use_profile(hw::virtio_iommu::find_device_profile("qemu-7.2")->behaviour);
    const auto problems = c.problems();
    CHECK(std::find(problems.begin(), problems.end(),
                    "QEMU 7.2 cannot be given viommu's experimental non-coherent extension (it has no such feature)") !=
          problems.end());
}
