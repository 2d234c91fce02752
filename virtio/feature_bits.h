// Device status bits and the transport/ring feature bits of virtio v1.2 (§2.1, §6).
#pragma once

#include <cstdint>

namespace viommu::virtio {

using FeatureBits = uint64_t;

constexpr FeatureBits feature(unsigned bit) { return FeatureBits{1} << bit; }

// Transports show the 64 feature bits as 32-bit words behind a select register (virtio-mmio's
// DeviceFeaturesSel, virtio-pci's device_feature_select): word `select` of `features`, 0 beyond bit 63.
constexpr uint32_t feature_word(FeatureBits features, uint32_t select)
{
    return select > 1 ? 0 : static_cast<uint32_t>(features >> (32 * select));
}
// `features` with word `select` (0 or 1) replaced by `word`.
constexpr FeatureBits with_feature_word(FeatureBits features, uint32_t select, uint32_t word)
{
    const unsigned shift = 32 * (select & 1);
    return (features & ~(FeatureBits{0xffffffff} << shift)) | (FeatureBits{word} << shift);
}

// §6 Reserved Feature Bits.
inline constexpr unsigned kFIndirectDesc = 28;
inline constexpr unsigned kFEventIdx = 29;
inline constexpr unsigned kFVersion1 = 32;
inline constexpr unsigned kFAccessPlatform = 33;
inline constexpr unsigned kFRingPacked = 34;
inline constexpr unsigned kFInOrder = 35;
inline constexpr unsigned kFRingReset = 40;

// §2.1 Device Status Field.
namespace status {
inline constexpr uint8_t kAcknowledge = 1;
inline constexpr uint8_t kDriver = 2;
inline constexpr uint8_t kDriverOk = 4;
inline constexpr uint8_t kFeaturesOk = 8;
inline constexpr uint8_t kNeedsReset = 0x40;
inline constexpr uint8_t kFailed = 0x80;
} // namespace status

} // namespace viommu::virtio
