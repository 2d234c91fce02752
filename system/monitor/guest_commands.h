// The commands of viommu's monitor over a live guest (docs/monitor.md): QEMU's query-version,
// query-status, query-pci, device_add, device_del and quit, with QEMU's arguments, answers and
// errors, and viommu's own x-viommu-query-domains, x-viommu-query-mappings, x-viommu-inject-fault and
// x-viommu-report. Events: DEVICE_DELETED, X_VIOMMU_FAULT and, on quit, SHUTDOWN.
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "system/boot/live_guest.h"
#include "system/monitor/command_table.h"
#include "system/monitor/event.h"

namespace viommu::system::monitor {

struct GuestMonitorHooks {
    std::function<void(const Event&)> emit; // to the connected client
    std::function<void()> quit;             // after quit's answer and its SHUTDOWN event
};

// query-version's value: QEMU 7.2.0, the release whose virtio-iommu and QMP viommu reproduces, and
// viommu's own version as the package.
nlohmann::ordered_json monitor_version(const std::string& viommu_version);

void add_guest_commands(CommandTable& table, boot::LiveGuest& guest, nlohmann::ordered_json version,
                        GuestMonitorHooks hooks);

} // namespace viommu::system::monitor
