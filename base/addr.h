// Address types that cannot be mixed up: a guest-physical address is not an I/O virtual address.
#pragma once

#include <cstdint>

#include "base/strong_id.h"

namespace viommu {

using GuestAddr = StrongId<struct GuestAddrTag, uint64_t>; // guest-physical address (GPA)
using Iova = StrongId<struct IovaTag, uint64_t>;           // I/O virtual address, before translation

} // namespace viommu
