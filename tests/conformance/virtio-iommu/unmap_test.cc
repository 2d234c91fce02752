// §5.13.6.6 UNMAP, with the spec's seven example sequences, one TEST_CASE each. Each starts from a blank
// address space; a one-byte granule lets the examples use the spec's own small addresses.
#include <catch2/catch.hpp>

#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;

namespace {
constexpr uint32_t R = VIRTIO_IOMMU_MAP_F_READ;

struct Blank : IommuGuest {
    Blank() : IommuGuest(config())
    {
        if (client.attach(1, 8) != VIRTIO_IOMMU_S_OK)
            throw std::runtime_error("attach failed");
    }
    static hw::virtio_iommu::IommuConfig config()
    {
        auto c = test_config();
        c.page_size_mask = 1;
        c.reserved.clear();
        return c;
    }
    std::optional<uint8_t> map(uint64_t s, uint64_t e) { return client.map(1, s, e, 0x40000000 + s, R); }
    std::optional<uint8_t> unmap(uint64_t s, uint64_t e) { return client.unmap(1, s, e); }
    std::size_t mappings() const { return device.domains().find(hw::virtio_iommu::DomainId(1))->mappings.size(); }
};
} // namespace

TEST_CASE("UNMAP example 1: a range holding nothing succeeds and unmaps nothing", "[conformance][virtio-iommu][5.13.6.6]")
{
    Blank g;
    CHECK(g.unmap(0, 4) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("UNMAP example 2: the exact range of a mapping unmaps it", "[conformance][virtio-iommu][5.13.6.6]")
{
    Blank g;
    REQUIRE(g.map(0, 9) == VIRTIO_IOMMU_S_OK);
    CHECK(g.unmap(0, 9) == VIRTIO_IOMMU_S_OK);
    CHECK(g.mappings() == 0);
}

TEST_CASE("UNMAP example 3: a range covering two mappings unmaps both", "[conformance][virtio-iommu][5.13.6.6]")
{
    Blank g;
    REQUIRE(g.map(0, 4) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.map(5, 9) == VIRTIO_IOMMU_S_OK);
    CHECK(g.unmap(0, 9) == VIRTIO_IOMMU_S_OK);
    CHECK(g.mappings() == 0);
}

TEST_CASE("UNMAP example 4: splitting a mapping fails with RANGE and unmaps nothing", "[conformance][virtio-iommu][5.13.6.6.2]")
{
    Blank g;
    REQUIRE(g.map(0, 9) == VIRTIO_IOMMU_S_OK);
    CHECK(g.unmap(0, 4) == VIRTIO_IOMMU_S_RANGE);
    CHECK(g.mappings() == 1);
}

TEST_CASE("UNMAP example 5: the range of the first of two mappings unmaps only it", "[conformance][virtio-iommu][5.13.6.6]")
{
    Blank g;
    REQUIRE(g.map(0, 4) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.map(5, 9) == VIRTIO_IOMMU_S_OK);
    CHECK(g.unmap(0, 4) == VIRTIO_IOMMU_S_OK);
    CHECK(g.mappings() == 1);
    CHECK(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(5), hw::virtio_iommu::Access::kRead).ok);
}

TEST_CASE("UNMAP example 6: a range spilling past a mapping unmaps it", "[conformance][virtio-iommu][5.13.6.6]")
{
    Blank g;
    REQUIRE(g.map(0, 4) == VIRTIO_IOMMU_S_OK);
    CHECK(g.unmap(0, 9) == VIRTIO_IOMMU_S_OK);
    CHECK(g.mappings() == 0);
}

TEST_CASE("UNMAP example 7: a range over a gap unmaps the mappings on both sides", "[conformance][virtio-iommu][5.13.6.6]")
{
    Blank g;
    REQUIRE(g.map(0, 4) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.map(10, 14) == VIRTIO_IOMMU_S_OK);
    CHECK(g.unmap(0, 14) == VIRTIO_IOMMU_S_OK);
    CHECK(g.mappings() == 0);
}

TEST_CASE("UNMAP that would split a mapping at its end removes nothing, not even whole mappings before it",
          "[conformance][virtio-iommu][5.13.6.6.2]")
{
    Blank g;
    REQUIRE(g.map(0, 4) == VIRTIO_IOMMU_S_OK);
    REQUIRE(g.map(5, 9) == VIRTIO_IOMMU_S_OK);
    // QEMU may already have removed [0, 4] when it finds [5, 9] cut; the spec says nothing is removed.
    CHECK(g.unmap(0, 7) == VIRTIO_IOMMU_S_RANGE);
    CHECK(g.mappings() == 2);
}

TEST_CASE("UNMAP of a domain that does not exist answers NOENT", "[conformance][virtio-iommu][5.13.6.6.2]")
{
    Blank g;
    CHECK(g.client.unmap(7, 0, 0xfff) == VIRTIO_IOMMU_S_NOENT);
}

TEST_CASE("UNMAP on a bypass domain answers INVAL", "[conformance][virtio-iommu][5.13.6.6.2]")
{
    Blank g;
    REQUIRE(g.client.attach(2, 0x10, VIRTIO_IOMMU_ATTACH_F_BYPASS) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.unmap(2, 0, 0xfff) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("UNMAP with virt_end below virt_start answers INVAL", "[conformance][virtio-iommu][5.13.6.6]")
{
    Blank g;
    CHECK(g.unmap(9, 0) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("UNMAP ignores its reserved field, as QEMU does", "[conformance][virtio-iommu][5.13.6.6.2]")
{
    Blank g;
    REQUIRE(g.map(0, 9) == VIRTIO_IOMMU_S_OK);
    const auto req = guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Unmap{.domain = 1, .virt_start = 0, .virt_end = 9});
    auto reply = g.client.send(with_byte(req, offsetof(virtio_iommu_req_unmap, reserved) + 1, 7), 4);
    REQUIRE(reply);
    CHECK(reply->status_at(0) == VIRTIO_IOMMU_S_OK);
    CHECK(g.mappings() == 0);
}
