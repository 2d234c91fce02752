#include "tests/fuzz/transport_oracle.h"

#include <fmt/format.h>

#include "tests/fuzz/finding.h"
#include "tests/fuzz/mmio_scenario.h"

namespace viommu::fuzz {

namespace vstatus = virtio::status;

virtio::GuestMemory make_transport_ram()
{
    auto mem = virtio::GuestMemory::create({{GuestAddr(kMmioRamBase), kMmioRamSize}});
    if (!mem)
        finding(mem.error());
    return std::move(*mem);
}

void DeviceRules::check(const virtio::DeviceBase& device)
{
    const uint8_t s = device.status();
    if (s & vstatus::kFeaturesOk) {
        const auto f = device.driver_features();
        if ((f & ~device.device_features()) || !(f & virtio::feature(virtio::kFVersion1)))
            finding(fmt::format("FEATURES_OK with driver features {:#x} of offered {:#x}", f, device.device_features()));
    }
    if ((s & vstatus::kDriverOk) && !(s & vstatus::kFeaturesOk) && !(s & vstatus::kNeedsReset))
        finding("DRIVER_OK without FEATURES_OK, and the device carries on");
    if (device.config_generation() < generation_)
        finding("the configuration generation went back");
    generation_ = device.config_generation();
}

} // namespace viommu::fuzz
