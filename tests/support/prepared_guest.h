// A guest that sends one request at a time through the prepared (non-allocating) client: for tests that
// watch the device's own allocations.
#pragma once

#include <catch2/catch.hpp>

#include <linux/virtio_iommu.h>

#include "guest-model/virtio-iommu/prepared_client.h"
#include "hw/virtio-iommu/device.h"
#include "system/machine/machine.h"

namespace viommu::test {

struct PreparedGuest {
    system::machine::Machine machine;
    hw::virtio_iommu::VirtioIommu& device;
    guest::virtio_iommu::PreparedClient client;

    explicit PreparedGuest(hw::virtio_iommu::IommuConfig config)
        : device(machine.add_device<hw::virtio_iommu::VirtioIommu>(std::move(config))), client(machine.handle(0), 1)
    {
        REQUIRE(client.bring_up());
    }
    uint8_t send(const guest::virtio_iommu::req::Encoded& r)
    {
        client.stage(0, r);
        return client.submit(1) ? client.status(0) : 0xfe;
    }
    uint8_t attach(uint32_t domain, uint32_t endpoint)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.domain = domain, .endpoint = endpoint}));
    }
    uint8_t detach(uint32_t domain, uint32_t endpoint)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Detach{.domain = domain, .endpoint = endpoint}));
    }
    uint8_t map(uint64_t iova)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Map{.domain = 1,
                                                       .virt_start = iova,
                                                       .virt_end = iova + 0xfff,
                                                       .phys_start = 0x40000000,
                                                       .flags = VIRTIO_IOMMU_MAP_F_READ}));
    }
    uint8_t unmap(uint64_t iova)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Unmap{.domain = 1, .virt_start = iova, .virt_end = iova + 0xfff}));
    }
    uint8_t probe(uint32_t endpoint)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Probe{.endpoint = endpoint, .probe_size = 512}));
    }
};

} // namespace viommu::test
