// Saving a virtio-iommu's whole state (negotiated features, status, configuration, queue indices,
// domains, endpoints, mappings) and restoring it into a fresh device of the same properties, like a
// QEMU migration stream.
//
// Stream: "VIOMMUSS", a version, the payload length, the payload, and a CRC-32 of everything before it.
// A stream that is truncated, corrupted, of another version, of a device with other properties, or
// whose contents are inconsistent is refused with a message saying why, and the target is left as it
// was: restore() checks everything before it changes anything.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/expected.h"

namespace viommu::hw::virtio_iommu {

class VirtioIommu;

class Snapshot {
public:
    static constexpr uint32_t kVersion = 1;

    [[nodiscard]] static std::vector<uint8_t> save(const VirtioIommu& device);
    [[nodiscard]] static Expected<void, std::string> restore(VirtioIommu& device, std::span<const uint8_t> stream);
};

} // namespace viommu::hw::virtio_iommu
