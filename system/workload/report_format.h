// How a workload report is shown: a table after viommu-boot's device table, and the "workload" object
// of its JSON report (docs/boot.md, "Workload"; docs/schemas/boot-report.schema.json).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "system/workload/report.h"

namespace viommu::system::workload {

std::string render_text(const Report& report);
nlohmann::json to_json(const Report& report);

} // namespace viommu::system::workload
