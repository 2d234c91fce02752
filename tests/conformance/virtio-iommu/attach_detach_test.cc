// §5.13.6.3 ATTACH and §5.13.6.4 DETACH.
#include <catch2/catch.hpp>

#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;

TEST_CASE("ATTACH creates the domain and attaches the endpoint", "[conformance][virtio-iommu][5.13.6.3]")
{
    IommuGuest g;
    CHECK(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.device.domains().domain_of(hw::virtio_iommu::EndpointId(8)));
    CHECK(g.device.domains().domain_of(hw::virtio_iommu::EndpointId(8))->id == hw::virtio_iommu::DomainId(1));
}

TEST_CASE("ATTACH with a non-zero reserved field answers INVAL and changes nothing", "[conformance][virtio-iommu][5.13.6.3.2]")
{
    IommuGuest g;
    const auto req = guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.domain = 1, .endpoint = 8});
    auto reply = g.client.send(with_byte(req, offsetof(virtio_iommu_req_attach, reserved) + 3, 1), 4);
    REQUIRE(reply);
    CHECK(reply->status_at(0) == VIRTIO_IOMMU_S_INVAL);
    CHECK(g.device.domains().domain_count() == 0);
}

TEST_CASE("ATTACH with an unknown flag answers INVAL", "[conformance][virtio-iommu][5.13.6.3.2]")
{
    IommuGuest g;
    CHECK(g.client.attach(1, 8, 2) == VIRTIO_IOMMU_S_INVAL);
    CHECK(g.device.domains().domain_count() == 0);
}

TEST_CASE("ATTACH_F_BYPASS without BYPASS_CONFIG negotiated is an unknown flag", "[conformance][virtio-iommu][5.13.6.3]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
    IommuGuest g(test_config(), o);
    CHECK(g.client.attach(1, 8, VIRTIO_IOMMU_ATTACH_F_BYPASS) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("ATTACH of an endpoint that does not exist answers NOENT", "[conformance][virtio-iommu][5.13.6.3.2]")
{
    IommuGuest g;
    CHECK(g.client.attach(1, 9) == VIRTIO_IOMMU_S_NOENT);
    CHECK(g.client.attach(1, 0xffffffff) == VIRTIO_IOMMU_S_NOENT);
}

TEST_CASE("ATTACH to a domain outside domain_range answers RANGE", "[conformance][virtio-iommu][5.13.6.3]")
{
    auto config = test_config();
    config.domain_start = 1;
    config.domain_end = 1023;
    IommuGuest g(config);
    CHECK(g.client.attach(0, 8) == VIRTIO_IOMMU_S_RANGE);
    CHECK(g.client.attach(1024, 8) == VIRTIO_IOMMU_S_RANGE);
    CHECK(g.client.attach(1023, 8) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("without DOMAIN_RANGE offered any domain ID is valid", "[conformance][virtio-iommu][5.13.6]")
{
    auto config = test_config();
    config.domain_end = 10;
    config.withheld = virtio::feature(VIRTIO_IOMMU_F_DOMAIN_RANGE);
    IommuGuest g(config);
    CHECK(g.client.attach(0xfffffff0, 8) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("ATTACH with a bypass flag inconsistent with the domain answers INVAL", "[conformance][virtio-iommu][5.13.6.3.2]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8, VIRTIO_IOMMU_ATTACH_F_BYPASS) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.attach(1, 0x10) == VIRTIO_IOMMU_S_INVAL);
    REQUIRE(g.client.attach(2, 0x11) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.attach(2, 0x12, VIRTIO_IOMMU_ATTACH_F_BYPASS) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("re-ATTACH to another domain first detaches the endpoint", "[conformance][virtio-iommu][5.13.6.3.2]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.attach(2, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().domain_of(hw::virtio_iommu::EndpointId(8))->id == hw::virtio_iommu::DomainId(2));
    // Domain 1 lost its last endpoint: it and its mappings are gone.
    CHECK_FALSE(g.device.domains().find(hw::virtio_iommu::DomainId(1)));
}

TEST_CASE("a rejected ATTACH leaves the endpoint where it was", "[conformance][virtio-iommu][5.13.6.3]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.attach(2, 0x10, VIRTIO_IOMMU_ATTACH_F_BYPASS) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.attach(2, 8) == VIRTIO_IOMMU_S_INVAL); // bypass mismatch (QEMU detaches first)
    CHECK(g.device.domains().domain_of(hw::virtio_iommu::EndpointId(8))->id == hw::virtio_iommu::DomainId(1));
}

TEST_CASE("ATTACH to the domain the endpoint is in changes nothing", "[conformance][virtio-iommu][5.13.6.3]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().find(hw::virtio_iommu::DomainId(1))->mappings.size() == 1);
}

TEST_CASE("several endpoints share one domain", "[conformance][virtio-iommu][5.13.6.3]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().find(hw::virtio_iommu::DomainId(1))->endpoints.size() == 2);
}

TEST_CASE("DETACH of an endpoint that does not exist answers NOENT", "[conformance][virtio-iommu][5.13.6.4.2]")
{
    IommuGuest g;
    CHECK(g.client.detach(1, 9) == VIRTIO_IOMMU_S_NOENT);
}

TEST_CASE("DETACH of an endpoint not attached to that domain answers INVAL", "[conformance][virtio-iommu][5.13.6.4.2]")
{
    IommuGuest g;
    CHECK(g.client.detach(1, 8) == VIRTIO_IOMMU_S_INVAL); // no such domain
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.attach(2, 0x10) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.detach(2, 8) == VIRTIO_IOMMU_S_INVAL); // another domain
    CHECK(g.device.domains().domain_of(hw::virtio_iommu::EndpointId(8))->id == hw::virtio_iommu::DomainId(1));
}

TEST_CASE("DETACH ignores its reserved field", "[conformance][virtio-iommu][5.13.6.4.2]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    const auto req = guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Detach{.domain = 1, .endpoint = 8});
    auto reply = g.client.send(with_byte(req, offsetof(virtio_iommu_req_detach, reserved), 0xff), 4);
    REQUIRE(reply);
    CHECK(reply->status_at(0) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("a domain ceases to exist when its last endpoint is detached", "[conformance][virtio-iommu][5.13.6.4]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0x40000000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.detach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().find(hw::virtio_iommu::DomainId(1)));
    REQUIRE(g.client.detach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    CHECK_FALSE(g.device.domains().find(hw::virtio_iommu::DomainId(1)));
    // The ID can be reused, and the new domain starts empty.
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().find(hw::virtio_iommu::DomainId(1))->mappings.empty());
}

TEST_CASE("a device reset detaches every endpoint", "[conformance][virtio-iommu][5.13.5]")
{
    IommuGuest g;
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.bring_up());
    CHECK(g.device.domains().domain_count() == 0);
    CHECK_FALSE(g.device.domains().domain_of(hw::virtio_iommu::EndpointId(8)));
}
