#include "tools/common/cli.h"

#include <cstdio>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "base/printable.h"
#include "base/trace/trace.h"
#include "tools/common/version.h"

namespace viommu::tools {

void add_common_options(CLI::App& app, CommonOptions& options, std::string_view tool)
{
    app.set_version_flag("--version", version_text(tool), "Print the version (and the git commit built) and exit");
    app.add_option("--trace", options.trace,
                   "Enable the trace points matching GLOB (repeatable), e.g. 'virtio_iommu_*'; "
                   "'help' lists them")
        ->type_name("GLOB")
        ->allow_extra_args(false);
    app.add_option("--log-level", options.log_level, "Log level: trace, debug, info, warn, error, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

std::optional<int> apply_common_options(const CommonOptions& options)
{
    // Tools write their data on stdout (JSON Lines, tables); every diagnostic, the device's guest errors
    // included, goes to stderr.
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("viommu", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
    spdlog::set_level(spdlog::level::from_str(options.log_level));
    for (const std::string& glob : options.trace) {
        if (glob == "help") {
            for (const std::string& name : trace::names())
                std::printf("%s\n", name.c_str());
            return kExitOk;
        }
        const trace::EnableResult enabled = trace::enable(glob);
        if (enabled.malformed) {
            std::fprintf(stderr, "error: trace pattern '%s' has a '[' without its ']'\n", printable(glob).c_str());
            return kExitBadInput;
        }
        if (enabled.unknown_exact_name) {
            std::fprintf(stderr, "error: trace point '%s' does not exist (try --trace help)\n", glob.c_str());
            return kExitBadInput;
        }
    }
    return std::nullopt;
}

} // namespace viommu::tools
