// The tools' one diagnostics backend: spdlog's default logger, writing to stderr only (stdout carries the
// data: reports, JSON Lines, tables), every line "TOOL: message". The tools' own errors, warnings and
// progress go through it, and so do the devices' guest errors (virtio/device_base.cc), so that
// --log-level governs all of them. Neither the guest's kernel log (report data) nor the trace points
// (--trace, their own sink) are diagnostics: the level leaves them alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace viommu::tools {

// spdlog's level names, as --log-level takes them.
inline constexpr std::string_view kLogLevelNames = "trace, debug, info, warn, error, critical, off";
// info: the default shows the tools' progress lines and the devices' warnings; debug adds what was
// resolved and read.
inline constexpr const char* kDefaultLogLevel = "info";

// Called first thing in main, before the command line is read: whatever the tool says from then on
// (a bad option included) goes to stderr as "TOOL: message", at the default level.
void install_logger(std::string_view tool);

// --log-level LEVEL into level (which holds the default); an unknown name is a parse error (exit 2)
// naming the valid ones.
void add_log_level_option(CLI::App& app, std::string& level);

// Sets the level of a name --log-level accepts.
void set_log_level(const std::string& level);

// For a tool whose arguments another parser reads (viommu-bench: Google Benchmark's): takes
// "--log-level LEVEL" and "--log-level=LEVEL" out of argv and applies them. Returns the exit status when
// the program should stop (a missing or unknown level), nullopt to go on.
std::optional<int> take_log_level_argument(int& argc, char** argv);

} // namespace viommu::tools
