// Every reason the device refuses a request, and the one place where a reason becomes a wire status.
// Code below decides *why* a request fails; only to_status() decides what the guest reads.
#pragma once

#include <string_view>

#include "hw/virtio-iommu/status.h"

namespace viommu::hw::virtio_iommu {

enum class Error {
    // Decoding (request.cc)
    kUnknownType,          // a request type the device does not know, answered (a QEMU profile)
    kTooShort,             // the device-readable part is shorter than the request type needs
    kReservedNotZero,      // a reserved field of the request is not zero
    kUnknownFlags,         // a flag the device does not know, or one whose feature was not negotiated
    kEndBeforeStart,       // virt_end < virt_start
    // Endpoints and domains (domains.cc)
    kNoSuchEndpoint,       // the endpoint ID does not exist
    kNoSuchDomain,         // the domain does not exist
    kDomainOutOfRange,     // the domain ID is outside domain_range
    kBypassMismatch,       // ATTACH with/without F_BYPASS to a domain of the other kind
    kNotAttached,          // DETACH of an endpoint not attached to that domain
    kTooManyDomains,       // limit reached
    kTooManyEndpoints,     // limit reached
    // Mappings (domains.cc)
    kBypassDomain,         // MAP/UNMAP on a bypass domain
    kOutsideInputRange,    // the range leaves input_range
    kMisaligned,           // virt_start, phys_start or virt_end + 1 not aligned to the granule
    kPhysWraps,            // phys_start + size wraps past 2^64
    kOverlap,              // MAP over an existing mapping
    kOverlapsReserved,     // MAP over a reserved region of an attached endpoint
    kWouldSplit,           // UNMAP cutting a mapping in two
    kUnmapNeverEnds,       // (QEMU profiles) UNMAP meeting an inverted interval: QEMU loops forever, we give up
    kTooManyMappings,      // limit reached
    kMappingBudgetSpent,   // the device-wide mapping budget is reached
    kHostOutOfMemory,      // the host could not allocate: the device gives up (NEEDS_RESET)
    // PROBE (probe.cc)
    kProbeBufferTooSmall,  // the device-writable part is smaller than probe_size plus the tail
};

constexpr Status to_status(Error e)
{
    switch (e) {
    case Error::kTooShort:
    case Error::kReservedNotZero:
    case Error::kUnknownFlags:
    case Error::kEndBeforeStart:
    case Error::kBypassMismatch:
    case Error::kNotAttached:
    case Error::kBypassDomain:
    case Error::kOverlap:
    case Error::kOverlapsReserved:
    case Error::kProbeBufferTooSmall: return Status::kInval;
    case Error::kNoSuchEndpoint:
    case Error::kNoSuchDomain: return Status::kNoEnt;
    case Error::kUnknownType: return Status::kUnsupp;
    case Error::kDomainOutOfRange:
    case Error::kOutsideInputRange:
    case Error::kMisaligned:
    case Error::kPhysWraps:
    case Error::kWouldSplit: return Status::kRange;
    case Error::kTooManyDomains:
    case Error::kTooManyEndpoints:
    case Error::kTooManyMappings:
    case Error::kMappingBudgetSpent:
    case Error::kHostOutOfMemory: return Status::kNoMem;
    case Error::kUnmapNeverEnds: return Status::kDevErr; // never seen: the device has given up
    }
    return Status::kDevErr;
}

constexpr std::string_view describe(Error e)
{
    switch (e) {
    case Error::kUnknownType: return "unknown request type";
    case Error::kTooShort: return "request too short for its type";
    case Error::kReservedNotZero: return "reserved field not zero";
    case Error::kUnknownFlags: return "unknown or unnegotiated flags";
    case Error::kEndBeforeStart: return "virt_end before virt_start";
    case Error::kNoSuchEndpoint: return "no such endpoint";
    case Error::kNoSuchDomain: return "no such domain";
    case Error::kDomainOutOfRange: return "domain outside domain_range";
    case Error::kBypassMismatch: return "bypass flag differs from the domain's";
    case Error::kNotAttached: return "endpoint not attached to this domain";
    case Error::kTooManyDomains: return "domain limit reached";
    case Error::kTooManyEndpoints: return "attached-endpoint limit reached";
    case Error::kBypassDomain: return "bypass domain has no mappings";
    case Error::kOutsideInputRange: return "range outside input_range";
    case Error::kMisaligned: return "range not aligned to the page granule";
    case Error::kPhysWraps: return "physical range wraps past 2^64";
    case Error::kOverlap: return "range overlaps an existing mapping";
    case Error::kOverlapsReserved: return "range overlaps a reserved region of an attached endpoint";
    case Error::kWouldSplit: return "unmap would split a mapping";
    case Error::kUnmapNeverEnds: return "unmap meets an inverted interval (QEMU 7.2 never answers)";
    case Error::kTooManyMappings: return "mapping limit reached";
    case Error::kMappingBudgetSpent: return "the device's mapping budget is spent";
    case Error::kHostOutOfMemory: return "the host is out of memory";
    case Error::kProbeBufferTooSmall: return "probe buffer smaller than probe_size";
    }
    return "?";
}

} // namespace viommu::hw::virtio_iommu
