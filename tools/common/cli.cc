#include "tools/common/cli.h"

#include <cstdio>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "base/input_file.h"
#include "base/printable.h"
#include "base/trace/trace.h"
#include "base/trace/trace_option.h"
#include "tools/common/version.h"

namespace viommu::tools {

void add_version_option(CLI::App& app, std::string_view tool)
{
    app.set_version_flag("--version", version_text(tool), "Print the version (and the git commit built) and exit");
}

void add_common_options(CLI::App& app, CommonOptions& options, std::string_view tool)
{
    add_version_option(app, tool);
    app.add_option("--trace", options.trace,
                   "Enable the trace points matching GLOB (repeatable), e.g. 'virtio_iommu_*'; 'help' lists them. "
                   "QEMU's forms too: enable=GLOB, events=FILE (a glob per line, '-GLOB' disables), file=FILE "
                   "(the trace goes there instead of stderr), comma-separated")
        ->type_name("GLOB")
        ->allow_extra_args(false);
    app.add_option("--log-level", options.log_level, "Log level: trace, debug, info, warn, error, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

namespace {

// Enables one glob; an exit status when it is malformed or names no trace point.
std::optional<int> enable_glob(const std::string& glob)
{
    const trace::EnableResult enabled = trace::enable(glob);
    if (enabled.malformed) {
        std::fprintf(stderr, "error: trace pattern '%s' has a '[' without its ']'\n", printable(glob).c_str());
        return kExitBadInput;
    }
    if (enabled.unknown_exact_name) {
        std::fprintf(stderr, "error: trace point '%s' does not exist (try --trace help)\n", printable(glob).c_str());
        return kExitBadInput;
    }
    return std::nullopt;
}

std::optional<int> apply_trace_option(const std::string& argument)
{
    const auto option = trace::parse_trace_option(argument);
    if (!option) {
        std::fprintf(stderr, "error: --trace: %s\n", printable(option.error()).c_str());
        return kExitBadInput;
    }
    for (const std::string& glob : option->patterns)
        if (auto status = enable_glob(glob))
            return status;
    constexpr std::size_t kEventsFileCap = 1 << 20;
    for (const std::string& path : option->events_files) {
        const auto text = read_input_file(path, kEventsFileCap);
        if (!text) {
            std::fprintf(stderr, "error: --trace events=%s: %s\n", printable(path).c_str(), text.error().reason.c_str());
            return kExitBadInput;
        }
        for (const trace::EventsFileLine& line : trace::parse_events_file(*text)) {
            if (line.disable)
                trace::disable(line.pattern);
            else if (auto status = enable_glob(line.pattern))
                return status;
        }
    }
    if (option->file) {
        try {
            auto logger = std::make_shared<spdlog::logger>(
                "trace", std::make_shared<spdlog::sinks::basic_file_sink_mt>(*option->file, true));
            logger->set_pattern("%v");
            logger->set_level(spdlog::level::trace);
            trace::set_sink(std::move(logger));
        } catch (const spdlog::spdlog_ex& e) {
            std::fprintf(stderr, "error: --trace file=%s: %s\n", printable(*option->file).c_str(), e.what());
            return kExitBadInput;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<int> apply_common_options(const CommonOptions& options)
{
    // Tools write their data on stdout (JSON Lines, tables); every diagnostic, the device's guest errors
    // included, goes to stderr.
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("viommu", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
    spdlog::set_level(spdlog::level::from_str(options.log_level));
    for (const std::string& argument : options.trace) {
        if (argument == "help") {
            for (const std::string& name : trace::names())
                std::printf("%s\n", name.c_str());
            return kExitOk;
        }
        if (auto status = apply_trace_option(argument))
            return status;
    }
    return std::nullopt;
}

} // namespace viommu::tools
