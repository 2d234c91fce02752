// §5.13.6.7 PROBE and §5.13.6.8 its properties.
#include <catch2/catch.hpp>

#include <algorithm>

#include "guest-model/virtio-iommu/probe_properties.h"
#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;

namespace {

// PROBE's readable part; the tests choose the writable part's size themselves.
std::vector<uint8_t> probe_request(uint32_t endpoint)
{
    return guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Probe{.endpoint = endpoint}).readable_vector();
}

} // namespace

TEST_CASE("PROBE fills RESV_MEM properties, zeroes to probe_size, then the tail", "[conformance][virtio-iommu][5.13.6.7.2]")
{
    auto c = test_config();
    c.reserved.push_back({{{hw::virtio_iommu::EndpointId(8), hw::virtio_iommu::EndpointId(8)}}, {Iova(0x8000000), Iova(0x80fffff)}, hw::virtio_iommu::ResvMemSubtype::kReserved});
    IommuGuest g(c);
    const auto reply = g.client.probe(8);
    REQUIRE(reply);
    REQUIRE(reply->used_len == 512 + 4);
    guest::virtio_iommu::probe::Walker properties{std::span(reply->written).first(512)};
    const auto msi = properties.next();
    REQUIRE(msi);
    CHECK(msi->type == VIRTIO_IOMMU_PROBE_T_RESV_MEM);
    CHECK(reply->written[1] == 0); // the type's reserved bits 12-15 are zero
    CHECK(msi->length == guest::virtio_iommu::probe::kResvMemValueSize);
    const auto msi_mem = guest::virtio_iommu::probe::read_resv_mem(msi->value);
    CHECK(msi_mem.subtype == VIRTIO_IOMMU_RESV_MEM_T_MSI);
    CHECK(msi_mem.start == 0xfee00000);
    CHECK(msi_mem.end == 0xfeefffff);
    const auto rsv = properties.next();
    REQUIRE(rsv);
    const auto rsv_mem = guest::virtio_iommu::probe::read_resv_mem(rsv->value);
    CHECK(rsv_mem.subtype == VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
    CHECK(rsv_mem.start == 0x8000000);
    CHECK_FALSE(properties.next());
    CHECK(properties.reached_none());
    for (std::size_t i = 48; i < 512; ++i)
        REQUIRE(reply->written[i] == 0);
    CHECK(reply->status_at(512) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("PROBE of an endpoint with no reserved region returns an empty list", "[conformance][virtio-iommu][5.13.6.7]")
{
    auto c = test_config();
    c.reserved.clear();
    IommuGuest g(c);
    const auto reply = g.client.probe(0x10);
    REQUIRE(reply);
    CHECK(reply->written[0] == 0); // VIRTIO_IOMMU_PROBE_T_NONE ends the list
    CHECK(reply->status_at(512) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("PROBE of an endpoint that does not exist answers NOENT", "[conformance][virtio-iommu][5.13.6.7.2]")
{
    IommuGuest g;
    const auto reply = g.client.probe(9);
    REQUIRE(reply);
    CHECK(reply->status_at(512) == VIRTIO_IOMMU_S_NOENT);
    CHECK(reply->written[0] == 0); // no property
}

TEST_CASE("PROBE with a writable part smaller than probe_size writes no property and answers INVAL",
          "[conformance][virtio-iommu][5.13.6.7.2]")
{
    IommuGuest g;
    auto reply = g.client.send(probe_request(8), 64 + 4);
    REQUIRE(reply);
    REQUIRE(reply->used_len == 68);
    // The tail goes in the last four bytes, where the driver reads it; no property was written.
    CHECK(reply->status_at(64) == VIRTIO_IOMMU_S_INVAL);
    for (std::size_t i = 0; i < 64; ++i)
        REQUIRE(reply->written[i] == 0);
}

TEST_CASE("PROBE too short for its type answers INVAL in the last four writable bytes",
          "[conformance][virtio-iommu][5.13.6.7.2]")
{
    // The tail of a PROBE follows probe_size bytes of properties, and a driver reads it at the end of its
    // buffer (Linux's viommu_get_req_errno()): a refusal goes there too, whatever the reason. Found by
    // fuzz-requests (tests/fuzz/regressions/fuzz-requests/probe-too-short).
    IommuGuest g;
    const auto bytes = probe_request(8);
    auto reply = g.client.send(std::span(bytes).first(8), 512 + 4);
    REQUIRE(reply);
    REQUIRE(reply->used_len == 512 + 4);
    CHECK(reply->status_at(512) == VIRTIO_IOMMU_S_INVAL);
    for (std::size_t i = 0; i < 512; ++i)
        REQUIRE(reply->written[i] == 0);
}

TEST_CASE("PROBE writes probe_size bytes of properties and the tail at offset probe_size, however large its buffer",
          "[conformance][virtio-iommu][5.13.6.8]")
{
    // §5.13.6.7: the writable part of a PROBE is "u8 properties[probe_size]" then the tail. A larger
    // buffer gets no more than that: QEMU's virtio_iommu_handle_command() builds a reply of probe_size +
    // sizeof(tail) bytes and reports that as the used length. Zeroing the whole writable part instead
    // let one PROBE with 31 descriptors of 128 MiB make the device write almost 4 GiB.
    IommuGuest g;
    g.client.set_segment_size(4096);
    auto reply = g.client.send(probe_request(8), 256 * 1024);
    REQUIRE(reply);
    REQUIRE(reply->used_len == 512 + 4);
    CHECK(reply->status_at(512) == VIRTIO_IOMMU_S_OK);
    guest::virtio_iommu::probe::Walker properties{std::span(reply->written).first(512)};
    const auto msi = properties.next();
    REQUIRE(msi);
    CHECK(guest::virtio_iommu::probe::read_resv_mem(msi->value).start == 0xfee00000);
}

TEST_CASE("PROBE refused with a buffer larger than probe_size answers at offset probe_size",
          "[conformance][virtio-iommu][5.13.6.8]")
{
    // A refusal goes where an answer's tail would (the same probe_size + 4 bytes), not at the far end of
    // an oversized buffer: a request too short for its type, and an endpoint that does not exist.
    IommuGuest g;
    const auto bytes = probe_request(8);
    auto too_short = g.client.send(std::span(bytes).first(8), 64 * 1024);
    REQUIRE(too_short);
    REQUIRE(too_short->used_len == 512 + 4);
    CHECK(too_short->status_at(512) == VIRTIO_IOMMU_S_INVAL);
    auto missing = g.client.send(probe_request(9), 64 * 1024);
    REQUIRE(missing);
    REQUIRE(missing->used_len == 512 + 4);
    CHECK(missing->status_at(512) == VIRTIO_IOMMU_S_NOENT);
}

TEST_CASE("a probe_size too small for an endpoint's properties is refused, as every PROBE of it would fail",
          "[conformance][virtio-iommu][5.13.6.7]")
{
    auto c = test_config(); // the x86 MSI window for every endpoint: 24 bytes of properties
    c.probe_size = 32;
    REQUIRE(c.problems().empty());
    // A second region for endpoint 0x10 alone: its properties need 48 bytes.
    c.reserved.push_back({{{hw::virtio_iommu::EndpointId(0x10), hw::virtio_iommu::EndpointId(0x10)}},
                          {Iova(0x3000), Iova(0x3fff)},
                          hw::virtio_iommu::ResvMemSubtype::kReserved});
    CHECK(c.largest_probe_properties() == 48);
    REQUIRE(c.problems().size() == 1);
    CHECK_THAT(c.problems()[0], Catch::Contains("probe_size 32 is too small for the 48 bytes"));
    c.probe_size = 48;
    CHECK(c.problems().empty());
    // Without PROBE, probe_size means nothing.
    c.probe_size = 0;
    c.withheld = virtio::feature(VIRTIO_IOMMU_F_PROBE);
    CHECK(c.problems().empty());
}

TEST_CASE("reserved regions of different types that overlap for an endpoint are refused", "[conformance][virtio-iommu][5.13.6.8.1]")
{
    using hw::virtio_iommu::EndpointId;
    using hw::virtio_iommu::ResvMemSubtype;
    auto c = test_config();
    c.reserved.push_back({{{EndpointId(8), EndpointId(8)}}, {Iova(0x1000), Iova(0x1fff)}, ResvMemSubtype::kReserved});
    c.reserved.push_back({{{EndpointId(0x10), EndpointId(0x10)}}, {Iova(0x1800), Iova(0x2fff)}, ResvMemSubtype::kMsi});
    CHECK(c.problems().empty()); // no endpoint sees both
    c.reserved.push_back({{{EndpointId(8), EndpointId(8)}}, {Iova(0x1800), Iova(0x27ff)}, ResvMemSubtype::kReserved});
    CHECK(c.problems().empty()); // the same type as the first: Linux merges them
    c.reserved.push_back({{}, {Iova(0x2fff), Iova(0x3fff)}, ResvMemSubtype::kReserved});
    REQUIRE(c.problems().size() == 1); // endpoint 0x10 sees the MSI window and this one on 0x2fff
    CHECK_THAT(c.problems()[0], Catch::Contains("0x1800-0x2fff and 0x2fff-0x3fff overlap with different types"));
}

TEST_CASE("PROBE ignores its reserved field", "[conformance][virtio-iommu][5.13.6.7.2]")
{
    IommuGuest g;
    auto req = probe_request(8);
    std::fill(req.begin() + offsetof(virtio_iommu_req_probe, reserved), req.end(), 0xee);
    auto reply = g.client.send(req, 512 + 4);
    REQUIRE(reply);
    CHECK(reply->status_at(512) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("PROBE without PROBE negotiated is returned unwritten", "[conformance][virtio-iommu][5.13.6.7.2]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~virtio::feature(VIRTIO_IOMMU_F_PROBE);
    IommuGuest g(test_config(), o);
    auto reply = g.client.send(probe_request(8), 512 + 4);
    REQUIRE(reply);
    CHECK(reply->used_len == 0);
}

TEST_CASE("PROBE when the device does not offer PROBE is returned unwritten", "[conformance][virtio-iommu][5.13.6.7.2]")
{
    auto c = test_config();
    c.withheld = virtio::feature(VIRTIO_IOMMU_F_PROBE);
    IommuGuest g(c);
    auto reply = g.client.send(probe_request(8), 512 + 4);
    REQUIRE(reply);
    CHECK(reply->used_len == 0);
}
