// What every viommu command line shares: --trace GLOB (repeatable; `--trace help` lists the trace
// points), --log-level, and the exit codes (0 ok, 1 a verdict the user asked about failed, 2 bad input,
// 3 outside what viommu models: no verdict given).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/common/logging.h"

namespace viommu::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitNotModelled = 3;

struct CommonOptions {
    std::vector<std::string> trace;
    std::string log_level = kDefaultLogLevel;
};

// --version: "TOOL VERSION (git DESCRIBE)"; tool names the program.
void add_version_option(CLI::App& app, std::string_view tool);
// --trace, --log-level and --version.
void add_common_options(CLI::App& app, CommonOptions& options, std::string_view tool);

// Applies the options (install_logger must have run). Returns an exit code when the program should stop now (`--trace help`, or a
// trace name that does not exist), nullopt to go on.
std::optional<int> apply_common_options(const CommonOptions& options);

// A command-line error, as every other diagnostic: "TOOL: MESSAGE (run with --help ...)" through the
// logger. It comes before --log-level is applied, so the default level shows it.
void report_parse_error(const CLI::ParseError& e);

// CLI11's parse with viommu's exit codes: --help and --version exit 0, any parse error prints CLI11's
// message and exits 2.
#define VIOMMU_PARSE(app, argc, argv)                                           \
    try {                                                                       \
        (app).parse((argc), (argv));                                            \
    } catch (const CLI::CallForHelp& e) {                                       \
        return (app).exit(e);                                                   \
    } catch (const CLI::CallForAllHelp& e) {                                    \
        return (app).exit(e);                                                   \
    } catch (const CLI::CallForVersion& e) {                                    \
        return (app).exit(e);                                                   \
    } catch (const CLI::ParseError& e) {                                        \
        ::viommu::tools::report_parse_error(e);                                 \
        return ::viommu::tools::kExitBadInput;                                  \
    }

} // namespace viommu::tools
