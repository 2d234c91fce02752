// The PROBE answer (virtio v1.2 §5.13.6.7, §5.13.6.8): an endpoint's RESV_MEM properties, zeroes to
// probe_size, then the tail.
#pragma once

#include <cstdint>

#include "base/expected.h"
#include "hw/virtio-iommu/config.h"
#include "hw/virtio-iommu/errors.h"
#include "virtio/chain_io.h"

namespace viommu::hw::virtio_iommu {

// Bytes of properties the endpoint can have (24 per reserved region that applies to it, and 8 for the
// experimental non-coherent property when the device offers that extension).
uint64_t probe_properties_size(const IommuConfig& config, EndpointId endpoint);

// Writes the endpoint's properties and pads them with zeroes to probe_size. The properties fit (a
// configuration whose properties do not is refused: IommuConfig::problems()) and `out` has room for
// probe_size bytes (PROBE's handler checked). x_noncoherent_negotiated: the driver accepted
// kFXNoncoherent, so a non-coherent endpoint's property is sent; a driver that did not gets none.
void write_probe_properties(const IommuConfig& config, EndpointId endpoint, bool x_noncoherent_negotiated,
                            virtio::ChainWriter& out);

} // namespace viommu::hw::virtio_iommu
