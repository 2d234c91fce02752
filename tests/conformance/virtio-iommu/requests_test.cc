// §5.13.6 Device operations: what every request gets, whatever its type.
#include <catch2/catch.hpp>

#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;

TEST_CASE("a request whose type is not recognised is returned unwritten with used length 0",
          "[conformance][virtio-iommu][5.13.6.2]")
{
    IommuGuest g;
    const std::vector<uint8_t> req = {0x42, 0, 0, 0, 1, 0, 0, 0};
    auto reply = g.client.send(req, 4);
    REQUIRE(reply);
    CHECK(reply->used_len == 0);
    CHECK_FALSE(g.needs_reset());
}

TEST_CASE("a request with no device-writable part is returned unwritten", "[conformance][virtio-iommu][5.13.6]")
{
    IommuGuest g;
    const auto req = guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.endpoint = 8});
    auto reply = g.client.send(req.readable(), 0);
    REQUIRE(reply);
    CHECK(reply->used_len == 0);
    CHECK(g.device.domains().domain_count() == 0); // and nothing happened
}

TEST_CASE("a request with a writable part smaller than the tail is returned unwritten", "[conformance][virtio-iommu][5.13.6]")
{
    IommuGuest g;
    const auto req = guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.endpoint = 8});
    auto reply = g.client.send(req.readable(), 3);
    REQUIRE(reply);
    CHECK(reply->used_len == 0);
}

TEST_CASE("a request shorter than its head is returned unwritten", "[conformance][virtio-iommu][5.13.6]")
{
    IommuGuest g;
    auto reply = g.client.send(std::vector<uint8_t>{VIRTIO_IOMMU_T_ATTACH, 0}, 4);
    REQUIRE(reply);
    CHECK(reply->used_len == 0);
}

TEST_CASE("a request too short for its type answers INVAL", "[conformance][virtio-iommu][5.13.6]")
{
    IommuGuest g;
    auto bytes = guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Map{}).readable_vector();
    bytes.resize(bytes.size() - 1);
    auto reply = g.client.send(bytes, 4);
    REQUIRE(reply);
    CHECK(reply->status_at(0) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("the reserved bytes of the head are ignored", "[conformance][virtio-iommu][5.13.6.2]")
{
    IommuGuest g;
    const auto req = guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.domain = 1, .endpoint = 8});
    auto bytes = with_byte(req, offsetof(virtio_iommu_req_head, reserved), 0xaa);
    bytes[offsetof(virtio_iommu_req_head, reserved) + 2] = 0x55;
    auto reply = g.client.send(bytes, 4);
    REQUIRE(reply);
    CHECK(reply->status_at(0) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("the tail's reserved bytes are written as zero", "[conformance][virtio-iommu][5.13.6.2]")
{
    IommuGuest g;
    auto reply = g.client.send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Detach{.endpoint = 8}));
    REQUIRE(reply);
    REQUIRE(reply->used_len == 4);
    CHECK(reply->written == std::vector<uint8_t>{VIRTIO_IOMMU_S_INVAL, 0, 0, 0});
}

TEST_CASE("MAP and UNMAP without MAP_UNMAP negotiated are returned unwritten", "[conformance][virtio-iommu][5.13.6.5]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~virtio::feature(VIRTIO_IOMMU_F_MAP_UNMAP);
    IommuGuest g(test_config(), o);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.client.map(1, 0, 0xfff, 0, VIRTIO_IOMMU_MAP_F_READ));
    CHECK_FALSE(g.client.unmap(1, 0, 0xfff));
}

TEST_CASE("requests in one batch are answered in order, each with its own status", "[conformance][virtio-iommu]")
{
    IommuGuest g;
    std::vector<std::vector<uint8_t>> batch;
    for (uint32_t ep : {8u, 9u, 0x10u}) {
        batch.push_back(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.domain = 1, .endpoint = ep}).readable_vector());
    }
    auto replies = g.client.send_batch(batch, 4);
    REQUIRE(replies);
    CHECK((*replies)[0].status_at(0) == VIRTIO_IOMMU_S_OK);
    CHECK((*replies)[1].status_at(0) == VIRTIO_IOMMU_S_NOENT);
    CHECK((*replies)[2].status_at(0) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("a request split into one-byte descriptors is answered as if it were whole", "[conformance][virtio-iommu][2.7.4]")
{
    // §2.7.4: "The device MUST NOT make assumptions about the particular arrangement of descriptors."
    IommuGuest g;
    g.client.set_segment_size(1);
    CHECK(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(1, 0x1000, 0x1fff, 0x40000000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    const auto probe = g.client.probe(8);
    REQUIRE(probe);
    CHECK(probe->used_len == 512 + 4);
    CHECK(probe->status_at(512) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1234), hw::virtio_iommu::Access::kRead).gpa == 0x40000234);
}
