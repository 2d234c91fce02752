// Decoding a request: the only code that reads request bytes. What leaves here is a typed request or
// the reason it is refused; handlers never see bytes (virtio v1.2 §5.13.6).
#pragma once

#include <cstdint>

#include "base/expected.h"
#include "hw/virtio-iommu/request_types.h"
#include "virtio/chain_io.h"

namespace viommu::hw::virtio_iommu {

// Reads the request after its head (already read: `type`). Refused as unwritten when the device must
// return the buffer unwritten with used length 0: a type it does not recognise, or one whose feature
// was not negotiated (§5.13.6.2, §5.13.6.7.2); the behaviour may answer an unknown type instead.
[[nodiscard]] Expected<Request, Refusal> decode(uint8_t type, virtio::ChainReader& in, const RequestFeatures& features,
                                                const DeviceBehaviour& behaviour);

} // namespace viommu::hw::virtio_iommu
