#include "tools/common/logging.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "base/printable.h"
#include "tools/common/cli.h"

namespace viommu::tools {

namespace {

// spdlog's own names, short forms ("warn", "error") as spdlog::level::from_str takes them.
constexpr std::array<std::string_view, 7> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

bool is_level(std::string_view name)
{
    return std::find(kLevels.begin(), kLevels.end(), name) != kLevels.end();
}

std::string not_a_level(const std::string& name)
{
    return fmt::format("'{}' is not a log level (valid: {})", printable(name), kLogLevelNames);
}

} // namespace

void install_logger(std::string_view tool)
{
    auto logger = std::make_shared<spdlog::logger>(std::string(tool), std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // The tool's name and the message, nothing else: the lines the tools printed before spdlog carried
    // them ("viommu-boot: --kernel: ...") stay as they were.
    logger->set_pattern("%n: %v");
    spdlog::set_default_logger(std::move(logger));
    set_log_level(kDefaultLogLevel);
}

void add_log_level_option(CLI::App& app, std::string& level)
{
    app.add_option("--log-level", level,
                   fmt::format("Diagnostics on stderr at LEVEL and above: {} (error: errors only; debug adds "
                               "what was resolved and read; off: none, the exit status says the same)",
                               kLogLevelNames))
        ->type_name("LEVEL")
        ->capture_default_str()
        ->check(CLI::Validator([](const std::string& name) { return is_level(name) ? "" : not_a_level(name); },
                               "", "log level"));
}

void set_log_level(const std::string& level)
{
    spdlog::set_level(spdlog::level::from_str(level));
}

std::optional<int> take_log_level_argument(int& argc, char** argv)
{
    constexpr std::string_view kOption = "--log-level";
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        std::optional<std::string> level;
        if (arg == kOption) {
            if (i + 1 == argc) {
                spdlog::error("--log-level needs a level ({})", kLogLevelNames);
                return kExitBadInput;
            }
            level = argv[++i];
        } else if (arg.substr(0, kOption.size() + 1) == fmt::format("{}=", kOption)) {
            level = std::string(arg.substr(kOption.size() + 1));
        } else {
            argv[kept++] = argv[i];
            continue;
        }
        if (!is_level(*level)) {
            spdlog::error("--log-level: {}", not_a_level(*level));
            return kExitBadInput;
        }
        set_log_level(*level);
    }
    argc = kept;
    argv[argc] = nullptr;
    return std::nullopt;
}

} // namespace viommu::tools
