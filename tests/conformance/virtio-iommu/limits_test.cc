// What a guest cannot push past: each limit answers NOMEM and changes nothing.
#include <catch2/catch.hpp>

#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;

TEST_CASE("ATTACH creating a domain beyond max_domains answers NOMEM", "[conformance][virtio-iommu][limits]")
{
    auto c = test_config();
    c.limits.max_domains = 2;
    IommuGuest g(c);
    REQUIRE(g.client.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.attach(2, 0x11) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.attach(3, 0x12) == VIRTIO_IOMMU_S_NOMEM);
    CHECK(g.client.attach(2, 0x12) == VIRTIO_IOMMU_S_OK); // joining an existing domain is fine
    // Moving the only endpoint of domain 1 to a new domain frees as much as it takes.
    CHECK(g.client.attach(3, 0x10) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().domain_count() == 2);
}

TEST_CASE("MAP beyond max_mappings_per_domain answers NOMEM", "[conformance][virtio-iommu][limits]")
{
    auto c = test_config();
    c.limits.max_mappings_per_domain = 3;
    IommuGuest g(c);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    for (uint64_t i = 0; i < 3; ++i)
        REQUIRE(g.client.map(1, i * 0x1000, i * 0x1000 + 0xfff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(1, 0x10000, 0x10fff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_NOMEM);
    REQUIRE(g.client.unmap(1, 0, 0xfff) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(1, 0x10000, 0x10fff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("ATTACH beyond max_attached_endpoints answers NOMEM", "[conformance][virtio-iommu][limits]")
{
    auto c = test_config();
    c.limits.max_attached_endpoints = 2;
    IommuGuest g(c);
    REQUIRE(g.client.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.attach(1, 0x11) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.attach(1, 0x12) == VIRTIO_IOMMU_S_NOMEM);
    CHECK(g.client.attach(2, 0x11) == VIRTIO_IOMMU_S_OK); // moving an attached endpoint is not growth
}

TEST_CASE("MAP beyond max_total_mappings answers NOMEM, whichever domain asks", "[conformance][virtio-iommu][limits]")
{
    auto c = test_config();
    c.limits.max_total_mappings = 3;
    IommuGuest g(c);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.attach(2, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x0, 0xfff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(2, 0x0, 0xfff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(2, 0x1000, 0x1fff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_NOMEM);
    CHECK(g.client.map(1, 0x2000, 0x2fff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_NOMEM);
    CHECK(g.device.domains().mapping_count() == 3);
}

TEST_CASE("the mapping budget is given back by UNMAP, by a domain that ceases to exist and by reset",
          "[conformance][virtio-iommu][limits]")
{
    auto c = test_config();
    c.limits.max_total_mappings = 2;
    IommuGuest g(c);
    REQUIRE(g.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x0, 0xfff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(1, 0x1000, 0x1fff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.unmap(1, 0x0, 0xfff) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().mapping_count() == 1);
    // §5.13.6.4: detaching the last endpoint ends the domain, and its mappings with it.
    REQUIRE(g.client.detach(1, 8) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.domains().mapping_count() == 0);
    REQUIRE(g.client.attach(2, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(2, 0x0, 0xfff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.client.map(2, 0x1000, 0x1fff, 0, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    g.device.reset();
    CHECK(g.device.domains().mapping_count() == 0);
}
