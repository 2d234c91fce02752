#include "tools/common/cli.h"

#include <cstdio>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "base/input_file.h"
#include "base/printable.h"
#include "base/trace/trace.h"
#include "base/trace/trace_option.h"
#include "tools/common/version.h"

namespace viommu::tools {

void report_parse_error(const CLI::ParseError& e)
{
    spdlog::error("{} (run with --help for more information)", e.what());
}

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
    add_log_level_option(app, options.log_level);
}

namespace {

// Enables one glob; an exit status when it is malformed or names no trace point.
std::optional<int> enable_glob(const std::string& glob)
{
    const trace::EnableResult enabled = trace::enable(glob);
    if (enabled.malformed) {
        spdlog::error("error: trace pattern '{}' has a '[' without its ']'", printable(glob));
        return kExitBadInput;
    }
    if (enabled.unknown_exact_name) {
        spdlog::error("error: trace point '{}' does not exist (try --trace help)", printable(glob));
        return kExitBadInput;
    }
    return std::nullopt;
}

std::optional<int> apply_trace_option(const std::string& argument)
{
    const auto option = trace::parse_trace_option(argument);
    if (!option) {
        spdlog::error("error: --trace: {}", printable(option.error()));
        return kExitBadInput;
    }
    for (const std::string& glob : option->patterns)
        if (auto status = enable_glob(glob))
            return status;
    constexpr std::size_t kEventsFileCap = 1 << 20;
    for (const std::string& path : option->events_files) {
        const auto text = read_input_file(path, kEventsFileCap);
        if (!text) {
            spdlog::error("error: --trace events={}: {}", printable(path), text.error().reason);
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
            spdlog::error("error: --trace file={}: {}", printable(*option->file), e.what());
            return kExitBadInput;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<int> apply_common_options(const CommonOptions& options)
{
    set_log_level(options.log_level);
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
