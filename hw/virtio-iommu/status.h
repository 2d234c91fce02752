// Request statuses (virtio v1.2 §5.13.6.1) and their names, as viommu-replay prints them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace viommu::hw::virtio_iommu {

enum class Status : uint8_t {
    kOk = 0,
    kIoErr = 1,
    kUnsupp = 2,
    kDevErr = 3,
    kInval = 4,
    kRange = 5,
    kNoEnt = 6,
    kFault = 7,
    kNoMem = 8,
};

constexpr std::string_view status_name(Status s)
{
    switch (s) {
    case Status::kOk: return "OK";
    case Status::kIoErr: return "IOERR";
    case Status::kUnsupp: return "UNSUPP";
    case Status::kDevErr: return "DEVERR";
    case Status::kInval: return "INVAL";
    case Status::kRange: return "RANGE";
    case Status::kNoEnt: return "NOENT";
    case Status::kFault: return "FAULT";
    case Status::kNoMem: return "NOMEM";
    }
    return "?";
}

// The name of a status byte read from guest memory, which may hold any value.
constexpr std::optional<std::string_view> status_name(uint8_t raw)
{
    if (raw > static_cast<uint8_t>(Status::kNoMem))
        return std::nullopt;
    return status_name(static_cast<Status>(raw));
}

} // namespace viommu::hw::virtio_iommu
