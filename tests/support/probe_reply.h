// The properties of one type in an endpoint's PROBE answer, as the guest driver parses them: what the
// conformance tests of per-endpoint PROBE properties read.
#pragma once

#include <span>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>
#include <linux/virtio_iommu.h>

#include "guest-model/virtio-iommu/probe_properties.h"
#include "tests/support/iommu_fixture.h"

namespace viommu::test {

// Probes endpoint with a 512-byte buffer, requires an OK status, and returns its properties of type P.
template <class P>
std::vector<P> probe_properties_of(IommuGuest& g, uint32_t endpoint)
{
    const auto reply = g.client.probe(endpoint);
    REQUIRE(reply);
    REQUIRE(reply->status_at(512) == VIRTIO_IOMMU_S_OK);
    std::vector<P> out;
    for (const guest::virtio_iommu::probe::Property& p :
         guest::virtio_iommu::probe::parse(std::span(reply->written).first(512)).list)
        if (const auto* property = std::get_if<P>(&p))
            out.push_back(*property);
    return out;
}

} // namespace viommu::test
