// A guest with a virtio-iommu behind virtio-mmio and the bare request client driving it: what the
// conformance tests talk to, through real rings in guest memory.
#pragma once

#include <stdexcept>
#include <vector>

#include <linux/virtio_iommu.h>

#include "system/machine/machine.h"
#include "guest-model/virtio-iommu/request_client.h"
#include "hw/virtio-iommu/device.h"

namespace viommu::test {

// Endpoints 0x8 and 0x10-0x18 exist; 4 KiB granule; the x86 MSI window is reserved for every endpoint.
inline hw::virtio_iommu::IommuConfig test_config()
{
    hw::virtio_iommu::IommuConfig c;
    c.endpoints = {{hw::virtio_iommu::EndpointId(0x8), hw::virtio_iommu::EndpointId(0x8)}, {hw::virtio_iommu::EndpointId(0x10), hw::virtio_iommu::EndpointId(0x18)}};
    c.reserved = {hw::virtio_iommu::x86_msi_region()};
    return c;
}

struct IommuGuest {
    explicit IommuGuest(hw::virtio_iommu::IommuConfig config = test_config(),
                        guest::virtio_iommu::IommuRequestClient::Options options = {}, bool bring_up = true)
        : device(machine.add_device<hw::virtio_iommu::VirtioIommu>(std::move(config))), client(machine.handle(0))
    {
        if (bring_up) {
            if (auto ok = client.bring_up(options); !ok)
                throw std::runtime_error(ok.error());
        }
    }

    bool needs_reset() { return client.driver().status() & virtio::status::kNeedsReset; }

    system::machine::Machine machine;
    hw::virtio_iommu::VirtioIommu& device;
    guest::virtio_iommu::IommuRequestClient client;
};

// A well-formed request's readable bytes with the byte at `offset` set to `value`: how a test builds
// a request a driver would not send.
inline std::vector<uint8_t> with_byte(const guest::virtio_iommu::req::Encoded& request, std::size_t offset, uint8_t value)
{
    std::vector<uint8_t> out = request.readable_vector();
    out.at(offset) = value;
    return out;
}

} // namespace viommu::test
