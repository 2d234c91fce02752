// Little-endian fields at byte offsets of a request or reply buffer. Every virtio-iommu structure is
// little-endian (virtio v1.2 §1.4, §5.13.6); virtio::Le holds the byte order, so these are one plain
// load or store on a little-endian host and still right on a big-endian one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "virtio/wire/le.h"

namespace viommu::guest::virtio_iommu::wire_fields {

template <class T>
void store_le(uint8_t* at, T value)
{
    const virtio::Le<T> le(value);
    std::memcpy(at, &le, sizeof le);
}

template <class T>
T load_le(const uint8_t* at)
{
    virtio::Le<T> le;
    std::memcpy(&le, at, sizeof le);
    return le.get();
}

} // namespace viommu::guest::virtio_iommu::wire_fields
