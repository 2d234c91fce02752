// Device status bits and the transport/ring feature bits of virtio v1.2 (§2.1, §6).
#pragma once

#include <cstdint>

namespace viommu::virtio {

using FeatureBits = uint64_t;

constexpr FeatureBits feature(unsigned bit) { return FeatureBits{1} << bit; }

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
