// What a layer's behaviour struct (iommu::CoreBehaviour, ViommuBehaviour, ...) resolves to under a
// kernel profile: a built-in name or a bare version.
#pragma once

#include <string>

#include "tests/support/driver_core_fixture.h"

namespace viommu::test {

template <class Behaviour>
Behaviour resolve_behaviour(const std::string& kernel)
{
    return Behaviour::from(load_profile(kernel));
}

} // namespace viommu::test
