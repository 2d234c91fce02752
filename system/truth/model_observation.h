// viommu-boot's model of a guest, seen as a real guest is observed (observation.h): from its report and
// the trace its virtio-iommu wrote while it booted.
#pragma once

#include <string_view>

#include "system/boot/report.h"
#include "system/truth/observation.h"

namespace viommu::system::truth {

Observation observation_from_model(const boot::GuestReport& report, std::string_view device_trace);

} // namespace viommu::system::truth
