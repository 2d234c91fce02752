// The virtio-iommu properties of a guest, on the device's configuration; the behaviour the device gets,
// and what it cannot be given (guest.h).
#include "system/boot/iommu_properties.h"

#include <fmt/format.h>

#include "system/boot/guest.h"

namespace viommu::system::boot {

void apply_iommu_properties(const IommuDesc& iommu, hw::virtio_iommu::IommuConfig& config)
{
    config.boot_bypass = iommu.boot_bypass;
    // QEMU 9.0's virtio_iommu_device_realize(): input_range.end = UINT64_MAX >> (64 - aw_bits), and
    // page_size_mask = -granule (the granule and every larger power of two).
    if (iommu.aw_bits)
        config.input_end = *iommu.aw_bits >= 64 ? UINT64_MAX : (uint64_t{1} << *iommu.aw_bits) - 1;
    if (iommu.granule)
        config.page_size_mask = ~(*iommu.granule - 1);
    config.packed = iommu.packed;
    config.x_noncoherent = iommu.x_noncoherent;
}

const hw::virtio_iommu::DeviceBehaviour& device_behaviour(const GuestSpec& spec, const BootOptions& options)
{
    static const hw::virtio_iommu::DeviceBehaviour kSpec;
    if (options.device)
        return *options.device;
    if (const auto* named = hw::virtio_iommu::find_device_profile(spec.iommu.device_profile))
        return named->behaviour;
    return kSpec;
}

std::vector<std::string> iommu_option_problems(const GuestSpec& spec, const BootOptions& options)
{
    if (!spec.iommu.present)
        return {};
    hw::virtio_iommu::IommuConfig config;
    config.use_profile(device_behaviour(spec, options));
    apply_iommu_properties(spec.iommu, config);
    std::vector<std::string> out;
    for (const std::string& problem : config.problems())
        out.push_back(fmt::format("the virtio-iommu's properties under device profile {}: {}",
                                  config.behaviour.profile, problem));
    if (!out.empty())
        return out;
    // The hostdevs' host IOMMUs as VFIO hands them over at machine init: a refusal there is QEMU's
    // refusal to start. Each stands at an endpoint of its own (its index): what they share behind a
    // bridge, the board meets with the real requester IDs.
    for (std::size_t i = 0; i < spec.functions.size(); ++i) {
        const FunctionDesc& f = spec.functions[i];
        if (!f.host_iommu)
            continue;
        const auto applied = hw::virtio_iommu::apply_host_constraints(
            config, hw::virtio_iommu::EndpointId(static_cast<uint32_t>(0x10000 + i)), *f.host_iommu, false);
        if (!applied)
            out.push_back(fmt::format("{}: its host IOMMU cannot sit behind the virtio-iommu under device profile {}: {}",
                                      f.source, config.behaviour.profile, applied.error()));
    }
    return out;
}

} // namespace viommu::system::boot
