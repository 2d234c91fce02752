// A deliberately simple model of a virtio-iommu, written from the spec (virtio v1.2 §5.13) and the
// policy choices the conformance tests pin down, for fuzz-differential to hold the device to.
//
// It shares no code with hw/virtio-iommu: it reads requests from raw bytes at the offsets of the
// kernel's <linux/virtio_iommu.h>, keeps domains and their mappings in plain vectors, and answers with
// linear scans. Every mapping is kept as the MAP that made it (start, end, physical start, flags), which
// is what UNMAP's rules are about ("a mapping is what a single MAP created", §5.13.6.6) and what a
// 64-bit address space with a one-byte granule needs; a page-per-entry map could not hold a 2^52-page
// mapping. Where the spec leaves a choice to the device, the model makes the one viommu documents:
//   - unknown type, or MAP/UNMAP/PROBE whose feature was not negotiated: returned unwritten;
//   - a request too short for its type: INVAL, in the tail where the type puts it;
//   - ATTACH: reserved != 0 INVAL, a domain outside domain_range RANGE, moving the endpoint never
//     fails for lack of room it frees itself, a refused ATTACH changes nothing;
//   - DETACH of an endpoint not attached to that domain: INVAL;
//   - MAP: misaligned RANGE, outside input_range RANGE, a physical end past 2^64 RANGE, virt_end <
//     virt_start INVAL, overlap INVAL, overlap with a reserved region of an attached endpoint INVAL;
//   - UNMAP that would split a mapping: RANGE, nothing removed;
//   - a limit reached: NOMEM;
//   - PROBE: the tail in the last four writable bytes, properties and zeroes before it;
//   - config.bypass written without BYPASS_CONFIG negotiated: the device gives up (QEMU's virtio_error);
//   - translation and fault reports as tests/conformance/virtio-iommu/translate_test.cc states them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tests/fuzz/observation.h"
#include "tests/fuzz/scenario.h"

namespace viommu::fuzz {

class ReferenceModel {
public:
    // The device as the request client leaves it after bring-up: features negotiated, queues live.
    explicit ReferenceModel(const DeviceChoice& device);

    Observation apply(const Action& action);

private:
    struct MapEntry {
        uint64_t start;
        uint64_t end; // inclusive
        uint64_t phys;
        uint32_t flags;
    };
    struct Domain {
        uint32_t id;
        bool bypass;
        std::vector<uint32_t> endpoints;
        std::vector<MapEntry> mappings;
    };

    Reply answer(std::span<const uint8_t> readable, uint32_t writable);
    uint8_t attach(std::span<const uint8_t> req);
    uint8_t detach(std::span<const uint8_t> req);
    uint8_t map(std::span<const uint8_t> req);
    uint8_t unmap(std::span<const uint8_t> req);
    Reply probe(std::span<const uint8_t> req, uint32_t writable);
    Translated translate(uint32_t endpoint, uint64_t iova, bool write);
    void write_bypass(uint8_t value);
    void reset();

    bool negotiated(unsigned bit) const { return (negotiated_ >> bit) & 1; }
    bool offered(unsigned bit) const { return (offered_ >> bit) & 1; }
    bool endpoint_exists(uint32_t endpoint) const;
    bool region_applies(std::size_t region, uint32_t endpoint) const;
    Domain* domain(uint32_t id);
    Domain* domain_of(uint32_t endpoint);
    void remove_endpoint(uint32_t endpoint);
    std::size_t attached_count() const;

    DeviceChoice config_;
    uint64_t offered_;
    uint64_t negotiated_;
    uint64_t input_end_;
    std::vector<Domain> domains_;
    uint8_t bypass_;
    bool broken_ = false;
};

} // namespace viommu::fuzz
