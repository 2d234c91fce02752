// What fuzz-requests and fuzz-differential feed a virtio-iommu: a device configuration and a sequence
// of actions (requests through the request queue, endpoint DMA, config.bypass writes, device resets),
// decoded from the fuzzer's bytes.
//
// The decoder is structure-aware: an action byte picks a request type, and small field encodings pick
// among a handful of domains, endpoints and granule-relative addresses, so that requests collide with
// each other (overlapping MAPs, UNMAPs that split, ATTACHes that move endpoints) far more often than
// random 64-bit values would. A "damage" suffix truncates, extends or pokes a request's bytes or
// changes its writable size, so malformed requests are exercised too. Every byte string decodes to a
// valid scenario; encode_scenario() writes a scenario back as bytes (seeds, regressions), using the
// full-width field forms, so decode_scenario(encode_scenario(s)) == s.
//
// A scenario is what a viommu-replay script expresses (scenario_script.h renders one), plus the two
// things a script cannot say: requests batched under one notification, and requests split across
// several descriptors. Neither may change an answer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/expected.h"
#include "tests/fuzz/fuzz_bytes.h"

namespace viommu::fuzz {

struct EndpointRange {
    uint32_t first = 0;
    uint32_t last = 0; // inclusive
    bool operator==(const EndpointRange&) const = default;
};

struct ReservedChoice {
    uint32_t endpoint_mask = 0; // bit i: the device's endpoint range i; 0: every endpoint
    uint64_t start = 0;
    uint64_t end = 0; // inclusive, >= start
    bool msi = false;
    bool operator==(const ReservedChoice&) const = default;
};

// The device's properties, as viommu-replay's options spell them (QEMU's -device virtio-iommu).
struct DeviceChoice {
    std::vector<EndpointRange> endpoints{{0, 0xffff}};
    unsigned granule_log2 = 12;
    unsigned aw_bits = 64; // input_range is [0, 2^aw_bits - 1]
    uint32_t domain_first = 0;
    uint32_t domain_last = UINT32_MAX;
    bool boot_bypass = true;
    bool legacy_bypass = false;
    uint32_t probe_size = 512;
    std::vector<ReservedChoice> reserved;
    uint64_t withheld = 0; // feature bits the device does not offer (--no-feature)
    uint64_t declined = 0; // offered feature bits the driver does not accept (--decline)
    uint32_t max_domains = 1u << 16;
    uint32_t max_mappings = 1u << 20;
    uint32_t max_endpoints = 1u << 16;
    uint32_t event_buffers = 64;
    bool operator==(const DeviceChoice&) const = default;
};

// Requests sent with one notification, each with `writable` device-writable bytes. segment > 0 splits
// both parts of every request into descriptors of at most that many bytes.
struct SendAction {
    std::vector<std::vector<uint8_t>> requests;
    uint32_t writable = 4;
    uint32_t segment = 0;
    bool operator==(const SendAction&) const = default;
};
// An endpoint's DMA of `len` bytes from `iova`, translated piece by piece as viommu-replay's `dma` does:
// each translate() covers what its translation says is contiguous, and the access stops at a fault.
struct DmaAction {
    uint32_t endpoint = 0;
    uint64_t iova = 0;
    bool write = false;
    uint64_t len = 1;
    bool operator==(const DmaAction&) const = default;
};
struct BypassAction {
    uint8_t value = 0; // 0 or 1: what viommu-replay's `bypass` can write
    bool operator==(const BypassAction&) const = default;
};
struct ResetAction {
    bool operator==(const ResetAction&) const = default;
};
using Action = std::variant<SendAction, DmaAction, BypassAction, ResetAction>;

struct Scenario {
    DeviceChoice device;
    std::vector<Action> actions;
    bool operator==(const Scenario&) const = default;
};

// The features a scenario may withhold or decline: those viommu-replay names, in the order of the
// decoder's bit masks.
inline constexpr std::array<const char*, 10> kFeatureNames = {
    "input-range", "domain-range", "map-unmap", "bypass", "probe", "mmio", "bypass-config",
    "indirect-desc", "event-idx", "ring-reset"};

// Bounds that keep one input's run short: the decoder stops after this many actions and ignores resets
// beyond the limit.
inline constexpr std::size_t kMaxActions = 256;
inline constexpr std::size_t kMaxResets = 16;
inline constexpr uint32_t kMaxWritable = 8192;

[[nodiscard]] Scenario decode_scenario(std::span<const uint8_t> input);
// Fails for a scenario the decoder cannot produce (a batch of more than four requests, a raw request of
// more than 255 bytes, a property out of the decoder's range).
[[nodiscard]] Expected<std::vector<uint8_t>, std::string> encode_scenario(const Scenario& scenario);

// The device part alone, as decode_scenario() reads it first and encode_scenario() writes it: how
// fuzz-replay-script chooses viommu-replay's options before its script text.
[[nodiscard]] DeviceChoice decode_device(ByteReader& r);
[[nodiscard]] Expected<void, std::string> encode_device(ByteWriter& w, const DeviceChoice& device);

// A well-formed request of a known type: its fields, with every reserved byte zero.
struct TypedRequest {
    uint8_t type = 0; // VIRTIO_IOMMU_T_*
    uint32_t domain = 0;
    uint32_t endpoint = 0;
    uint32_t flags = 0;
    uint64_t virt_start = 0;
    uint64_t virt_end = 0;
    uint64_t phys_start = 0;
};
// The readable part, as the kernel's structs lay it out.
std::vector<uint8_t> request_bytes(const TypedRequest& request);
// The writable part a driver gives the type: the tail, or probe_size bytes of properties and the tail.
uint32_t standard_writable(uint8_t type, uint32_t probe_size);
// The typed request whose bytes and writable size these are exactly, if there is one.
std::optional<TypedRequest> as_typed(std::span<const uint8_t> readable, uint32_t writable, uint32_t probe_size);

// The feature bit viommu-replay's name kFeatureNames[i] stands for.
unsigned feature_bit(std::size_t i);

} // namespace viommu::fuzz
