// The reports as one self-contained HTML page each (viommu-boot --html FILE): no network, no external
// asset, every style and script inline, every text from an input escaped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "system/boot/report.h"

namespace viommu::system::boot {

// One guest: its header, the PCI tree with each device's driver, group and verdict, the IOMMU groups
// drawn as boxes of their members, a card per VFIO verdict (why, the rule and its commit, what to
// change), the warnings and the kernel log.
std::string render_html(const GuestReport& report);

// --compare-kernels: one row per device, one column per kernel, each cell coloured by its verdict.
struct KernelMatrix {
    std::string guest;
    std::string heading; // what the text table's heading says (the architecture, the user path)
    std::vector<std::string> kernels;
    struct Row {
        std::string bdf;
        std::string label;
        std::vector<std::string> cells; // the text table's cells: "ok", "ok!", "EPERM@SET_IOMMU", "-", ...
        std::vector<std::optional<int>> groups;
    };
    std::vector<Row> rows;
};
std::string render_matrix_html(const KernelMatrix& matrix);

// --batch: a summary row per guest with a filter by status and by text.
struct BatchEntry {
    std::string file;
    std::string guest;
    std::string status; // "admitted", "rejected", "bad-input", "not-modelled", "failed", "skipped", ...
    std::string detail; // the error, or the verdicts in a few words
};
std::string render_batch_html(const std::vector<BatchEntry>& entries);

// &, <, >, " and ' as entities; control bytes as U+FFFD.
std::string html_escape(std::string_view text);

} // namespace viommu::system::boot
