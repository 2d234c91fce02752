// §5.13.6.5 MAP.
#include <catch2/catch.hpp>

#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;

namespace {
constexpr uint32_t R = VIRTIO_IOMMU_MAP_F_READ;
constexpr uint32_t W = VIRTIO_IOMMU_MAP_F_WRITE;

struct Attached : IommuGuest {
    explicit Attached(hw::virtio_iommu::IommuConfig c = test_config(), guest::virtio_iommu::IommuRequestClient::Options o = {})
        : IommuGuest(std::move(c), o)
    {
        if (client.attach(1, 8) != VIRTIO_IOMMU_S_OK)
            throw std::runtime_error("attach failed");
    }
};
} // namespace

TEST_CASE("MAP adds a mapping the domain's endpoints can use", "[conformance][virtio-iommu][5.13.6.5]")
{
    Attached g;
    CHECK(g.client.map(1, 0x1000, 0x1fff, 0x40000000, R | W) == VIRTIO_IOMMU_S_OK);
    const auto t = g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1234), hw::virtio_iommu::Access::kWrite);
    CHECK(t.ok);
    CHECK(t.gpa == 0x40000234);
}

TEST_CASE("MAP with an unknown flag answers INVAL", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    Attached g;
    CHECK(g.client.map(1, 0x1000, 0x1fff, 0, R | 8) == VIRTIO_IOMMU_S_INVAL);
    CHECK(g.device.domains().find(hw::virtio_iommu::DomainId(1))->mappings.empty());
}

TEST_CASE("MAP_F_MMIO without MMIO negotiated is an unknown flag", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~virtio::feature(VIRTIO_IOMMU_F_MMIO);
    Attached g(test_config(), o);
    CHECK(g.client.map(1, 0x1000, 0x1fff, 0, R | VIRTIO_IOMMU_MAP_F_MMIO) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("MAP_F_MMIO with MMIO negotiated is accepted", "[conformance][virtio-iommu][5.13.6.5]")
{
    Attached g;
    CHECK(g.client.map(1, 0x1000, 0x1fff, 0x8000000, W | VIRTIO_IOMMU_MAP_F_MMIO) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("MAP into a domain that does not exist answers NOENT", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    Attached g;
    CHECK(g.client.map(2, 0x1000, 0x1fff, 0, R) == VIRTIO_IOMMU_S_NOENT);
}

TEST_CASE("MAP into a bypass domain answers INVAL", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    Attached g;
    REQUIRE(g.client.attach(2, 0x10, VIRTIO_IOMMU_ATTACH_F_BYPASS) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(2, 0x1000, 0x1fff, 0, R) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("MAP with virt_end below virt_start answers INVAL", "[conformance][virtio-iommu][5.13.6.5.1]")
{
    Attached g;
    CHECK(g.client.map(1, 0x2000, 0x0fff, 0, R) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("MAP outside input_range answers RANGE", "[conformance][virtio-iommu][5.13.6]")
{
    auto c = test_config();
    c.input_start = 0x1000;
    c.input_end = (1ull << 48) - 1; // aw-bits 48, above the first page
    Attached g(c);
    CHECK(g.client.map(1, 0x0, 0xfff, 0, R) == VIRTIO_IOMMU_S_RANGE);
    CHECK(g.client.map(1, 1ull << 48, (1ull << 48) + 0xfff, 0, R) == VIRTIO_IOMMU_S_RANGE);
    CHECK(g.client.map(1, (1ull << 48) - 0x1000, (1ull << 48) - 1, 0, R) == VIRTIO_IOMMU_S_OK);
}

TEST_CASE("MAP not aligned to the granule answers RANGE", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    Attached g;
    CHECK(g.client.map(1, 0x1800, 0x2fff, 0, R) == VIRTIO_IOMMU_S_RANGE);  // virt_start
    CHECK(g.client.map(1, 0x1000, 0x1fff, 0x800, R) == VIRTIO_IOMMU_S_RANGE); // phys_start
    CHECK(g.client.map(1, 0x1000, 0x17ff, 0, R) == VIRTIO_IOMMU_S_RANGE);  // virt_end + 1
    CHECK(g.device.domains().find(hw::virtio_iommu::DomainId(1))->mappings.empty());
}

TEST_CASE("MAP ending at 2^64-1 is aligned and accepted", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    Attached g;
    CHECK(g.client.map(1, 0xfffffffffffff000, 0xffffffffffffffff, 0x40000000, R) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0xffffffffffffffff), hw::virtio_iommu::Access::kRead).gpa == 0x40000fff);
}

TEST_CASE("MAP whose physical end wraps past 2^64 answers RANGE", "[conformance][virtio-iommu][5.13.6.5]")
{
    Attached g;
    CHECK(g.client.map(1, 0x0, 0x1fff, 0xfffffffffffff000, R) == VIRTIO_IOMMU_S_RANGE);
}

TEST_CASE("MAP over an existing mapping answers INVAL", "[conformance][virtio-iommu][5.13.6.5.2]")
{
    Attached g;
    REQUIRE(g.client.map(1, 0x2000, 0x3fff, 0, R) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(1, 0x3000, 0x4fff, 0, R) == VIRTIO_IOMMU_S_INVAL);
    CHECK(g.client.map(1, 0x1000, 0x2fff, 0, R) == VIRTIO_IOMMU_S_INVAL);
    CHECK(g.client.map(1, 0x0000, 0x7fff, 0, R) == VIRTIO_IOMMU_S_INVAL);
    CHECK(g.client.map(1, 0x4000, 0x4fff, 0, R) == VIRTIO_IOMMU_S_OK); // adjacent is fine
}

TEST_CASE("MAP over a reserved region of an attached endpoint answers INVAL", "[conformance][virtio-iommu][5.13.6.8.1.2]")
{
    Attached g;
    CHECK(g.client.map(1, 0xfee00000, 0xfee00fff, 0xfee00000, W) == VIRTIO_IOMMU_S_INVAL);
    CHECK(g.client.map(1, 0xfed00000, 0xfee00fff, 0, W) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("MAP over a region reserved only for endpoints outside the domain is accepted", "[conformance][virtio-iommu][5.13.6.8.1.2]")
{
    auto c = test_config();
    c.reserved = {{{{hw::virtio_iommu::EndpointId(0x10), hw::virtio_iommu::EndpointId(0x10)}}, {Iova(0x100000), Iova(0x1fffff)}, hw::virtio_iommu::ResvMemSubtype::kReserved}};
    Attached g(c);
    CHECK(g.client.map(1, 0x100000, 0x100fff, 0, R) == VIRTIO_IOMMU_S_OK);
    // ATTACH does not check a domain's mappings against the new endpoint's reserved regions (the spec
    // asks that of MAP only), but every later MAP is checked against them.
    CHECK(g.client.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    CHECK(g.client.map(1, 0x180000, 0x180fff, 0, R) == VIRTIO_IOMMU_S_INVAL);
}

TEST_CASE("a one-byte granule allows one-byte mappings", "[conformance][virtio-iommu][5.13.6]")
{
    auto c = test_config();
    c.page_size_mask = 1;
    Attached g(c);
    CHECK(g.client.map(1, 0x3, 0x3, 0x40000007, R) == VIRTIO_IOMMU_S_OK);
    CHECK(g.device.translate(hw::virtio_iommu::EndpointId(8), Iova(0x3), hw::virtio_iommu::Access::kRead).gpa == 0x40000007);
}
