// How a GuestReport is shown: the table viommu-boot prints, and the JSON report it writes (the format is
// documented in docs/boot.md, "JSON report"; its "schema" field changes when a field changes meaning).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "system/boot/report.h"

namespace viommu::system::boot {

inline constexpr int kReportSchema = 1;

// A header line, one row per device (device, what, driver, group, domain, endpoint IDs, deferrals, DMA,
// VFIO), then one paragraph per VFIO verdict and per device the IOMMU did not take, then warnings.
std::string render_table(const GuestReport& report);

// The JSON report as one object (the monitor's x-viommu-report answers with it), and as text; indent < 0
// gives one line.
nlohmann::json report_json(const GuestReport& report);
std::string render_json(const GuestReport& report, int indent = 2);

// A guest that is not modelled (GuestSpec::not_modelled), named, with why: one line of text, or a JSON
// object in place of its report (exit_code kNotModelledExitCode, the reason in "not_modelled").
std::string render_not_modelled(std::string_view guest, std::string_view why);
std::string render_not_modelled_json(std::string_view guest, std::string_view why, int indent = 2);

// What describes the machine to Linux: "ACPI" (with the VIOT for a virtio-iommu) or "device tree".
std::string_view tables_text(FirmwareTables tables);

// "EPERM" for 1; "errno 1234" for a value the table does not name.
std::string errno_text(int err);

// The table's VFIO cell ("admitted", "admitted (unsafe)", "rejected: VFIO_SET_IOMMU EPERM", "-") and DMA
// cell ("translated", "firmware fault, none", ...).
std::string verdict_text(const DeviceReport& d);
std::string dma_text(const DeviceReport& d);

} // namespace viommu::system::boot
