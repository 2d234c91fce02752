// MAP's check against reserved regions (§5.13.6.8.1.2) costs what the domain's distinct regions cost,
// not what its endpoints do: global regions are checked once, and each domain keeps the per-endpoint
// regions of its attached endpoints, counted, as ATTACH and DETACH change them.
#include <catch2/catch.hpp>

#include "hw/virtio-iommu/domains.h"
#include "hw/virtio-iommu/wire.h"

using viommu::Iova;
using namespace viommu::hw::virtio_iommu;

namespace {

IommuConfig config_with(std::vector<ReservedRegion> reserved)
{
    IommuConfig c;
    c.reserved = std::move(reserved);
    return c;
}

MapRequest map_at(uint32_t domain, uint64_t iova)
{
    return MapRequest{DomainId(domain), Mapping{{Iova(iova), Iova(iova + 0xfff)}, iova, wire::kMapFRead}};
}

} // namespace

TEST_CASE("MAP checks each global reserved region once, however many endpoints the domain has",
          "[unit][virtio-iommu][5.13.6.8.1.2]")
{
    const IommuConfig c = config_with({{{}, {Iova(0xfee00000), Iova(0xfeefffff)}, ResvMemSubtype::kMsi},
                                       {{}, {Iova(0x8000000), Iova(0x80fffff)}, ResvMemSubtype::kReserved}});
    Domains domains(c);
    for (uint32_t ep = 0; ep < 1024; ++ep)
        REQUIRE(domains.apply(AttachRequest{DomainId(1), EndpointId(ep), false}));
    const uint64_t before = domains.reserved_region_checks();
    REQUIRE(domains.apply(map_at(1, 0x100000)));
    CHECK(domains.reserved_region_checks() - before == 2);
    CHECK_FALSE(domains.apply(map_at(1, 0xfee00000))); // still refused
}

TEST_CASE("MAP checks each per-endpoint reserved region of a domain once, and only while an endpoint it applies to is attached",
          "[unit][virtio-iommu][5.13.6.8.1.2]")
{
    // Region 0 applies to endpoints 0-511, region 1 to endpoint 600 alone.
    const IommuConfig c = config_with({{{{EndpointId(0), EndpointId(511)}}, {Iova(0x10000000), Iova(0x1000ffff)}, ResvMemSubtype::kReserved},
                                       {{{EndpointId(600), EndpointId(600)}}, {Iova(0x20000000), Iova(0x2000ffff)}, ResvMemSubtype::kReserved}});
    Domains domains(c);
    for (uint32_t ep = 0; ep < 512; ++ep)
        REQUIRE(domains.apply(AttachRequest{DomainId(1), EndpointId(ep), false}));
    REQUIRE(domains.apply(AttachRequest{DomainId(1), EndpointId(700), false}));
    uint64_t before = domains.reserved_region_checks();
    REQUIRE(domains.apply(map_at(1, 0x20000000))); // region 1's endpoint is not attached
    CHECK(domains.reserved_region_checks() - before == 1);
    CHECK_FALSE(domains.apply(map_at(1, 0x10000000)));

    REQUIRE(domains.apply(AttachRequest{DomainId(1), EndpointId(600), false}));
    before = domains.reserved_region_checks();
    CHECK_FALSE(domains.apply(map_at(1, 0x20001000))); // now it is
    CHECK(domains.reserved_region_checks() - before <= 2);

    // Detaching all but one of region 0's endpoints keeps it; detaching the last drops it.
    for (uint32_t ep = 0; ep < 511; ++ep)
        REQUIRE(domains.apply(DetachRequest{DomainId(1), EndpointId(ep)}));
    CHECK_FALSE(domains.apply(map_at(1, 0x10000000)));
    REQUIRE(domains.apply(DetachRequest{DomainId(1), EndpointId(511)}));
    CHECK(domains.apply(map_at(1, 0x10000000)));
}
