// viommu-replay: sends a request script through a real virtio-iommu request queue and prints one JSON
// object per step (docs/replay.md).
#include <cstdio>

#include <spdlog/spdlog.h>

#include "base/input_file.h"
#include "base/printable.h"
#include "system/replay/against_qemu.h"
#include "system/replay/runner.h"
#include "tools/common/cli.h"
#include "tools/common/iommu_options.h"

using namespace viommu;

namespace {

// A request script is a line per request; 16 MiB is half a million of them, far more than any test.
constexpr std::size_t kMaxScript = 16 << 20;

constexpr int kExitPeerFailed = 3;

// --against qemu[=BINARY]: the script on our device and on QEMU's; the steps where they differ.
int run_against(const std::string& peer, const system::replay::ReplayOptions& options,
                const std::vector<system::replay::Step>& steps)
{
    std::string binary = "qemu-system-x86_64";
    if (peer.rfind("qemu=", 0) == 0 && peer.size() > 5)
        binary = peer.substr(5);
    else if (peer != "qemu") {
        spdlog::error("--against: '{}' is not a peer (use qemu or qemu=BINARY)", printable(peer));
        return tools::kExitBadInput;
    }
    spdlog::debug("--against: QEMU is {}", printable(binary));
    using Outcome = system::replay::AgainstQemu::Outcome;
    const auto r = system::replay::run_against_qemu(binary, options, steps);
    for (const std::string& note : r.notes)
        spdlog::warn("{}", note);
    switch (r.outcome) {
    case Outcome::kNotExpressible:
        spdlog::error("--against qemu: {}", r.message);
        return tools::kExitBadInput;
    case Outcome::kPeerFailed:
        spdlog::error("--against qemu: {}", r.message);
        return kExitPeerFailed;
    case Outcome::kDeviceFailed:
        spdlog::error("{}", r.message);
        return tools::kExitRejected;
    case Outcome::kCompared:
        break;
    }
    const auto& c = r.comparison;
    for (const std::string& line : c.lines)
        std::printf("%s\n", line.c_str());
    spdlog::info("{} steps, {} differ ({} unexplained), {} not comparable", steps.size(),
                 c.differences, c.unexplained, c.not_comparable);
    return c.unexplained ? tools::kExitRejected : tools::kExitOk;
}

int run(int argc, char** argv)
{
    CLI::App app{"viommu-replay: send a request script to a virtio-iommu through a real virtqueue, print JSON Lines"};
    tools::CommonOptions common;
    tools::add_common_options(app, common, "viommu-replay");
    tools::IommuOptions device;
    tools::add_iommu_options(app, device);
    std::string script_path;
    std::vector<std::string> decline;
    uint32_t event_buffers = 64;
    std::string against;
    // Not required by CLI11: `--trace help` lists the trace points with no script; checked below.
    app.add_option("SCRIPT", script_path, "Request script ('-' reads standard input); required but with --trace help");
    app.add_option("--decline", decline, "A feature the driver does not accept although offered (repeatable)")
        ->allow_extra_args(false);
    app.add_option("--event-buffers", event_buffers, "Buffers the driver keeps on the event queue")
        ->check(CLI::Range(0u, 256u))
        ->capture_default_str();
    app.add_option("--against", against,
                   "Run the script on QEMU's virtio-iommu-pci too ('qemu', or 'qemu=BINARY' for another "
                   "qemu-system-x86_64) and print the steps where the two differ (docs/qemu-peer.md)");
    app.footer("Exit status: 0 the script ran (with --against: every difference is explained); 1 the device gave up "
               "(NEEDS_RESET) (with --against: a difference is unexplained); 2 bad command line or script (a script "
               "over 16 MiB is refused), or a host-side failure; 3 (--against) QEMU could not be started.");
    VIOMMU_PARSE(app, argc, argv);
    if (auto code = tools::apply_common_options(common))
        return *code;
    if (script_path.empty()) {
        spdlog::error("SCRIPT is required (the request script, or '-' for standard input)");
        return tools::kExitBadInput;
    }

    system::replay::ReplayOptions options;
    auto config = tools::build_iommu_config(device);
    if (!config) {
        spdlog::error("{}", config.error());
        return tools::kExitBadInput;
    }
    options.device = *config;
    options.event_buffers = event_buffers;
    for (const std::string& name : decline) {
        auto bit = hw::virtio_iommu::feature_by_name(name);
        if (!bit) {
            spdlog::error("--decline: {}", bit.error());
            return tools::kExitBadInput;
        }
        options.decline |= virtio::feature(*bit);
    }

    const auto text = read_input_file(script_path, kMaxScript);
    if (!text) {
        spdlog::error("cannot read {}: {}", printable(script_path), text.error().reason);
        return tools::kExitBadInput;
    }
    spdlog::debug("read {} ({} bytes)", script_path == "-" ? "standard input" : printable(script_path), text->size());
    const auto steps = system::replay::parse_script(*text);
    if (!steps) {
        // The message quotes the script's words: escaped, so a NUL cannot cut it short nor an ESC drive
        // the terminal.
        spdlog::error("{}:{}: {}", printable(script_path), steps.error().line, printable(steps.error().message));
        return tools::kExitBadInput;
    }

    spdlog::debug("{} steps; device profile {}, the driver declines {:#x} of its features", steps->size(),
                  device.device_profile, options.decline);
    if (!against.empty())
        return run_against(against, options, *steps);

    system::replay::Runner runner(options);
    if (auto ok = runner.start(); !ok) {
        spdlog::error("the driver could not bring the device up: {}", ok.error());
        return 1;
    }
    const bool answered = runner.run(*steps, [](const std::string& line) { std::printf("%s\n", line.c_str()); });
    return answered ? tools::kExitOk : tools::kExitRejected;
}

} // namespace

int main(int argc, char** argv)
{
    tools::install_logger("viommu-replay");
    // A host-side failure (guest RAM the host cannot map, memory exhausted) ends the run with a message
    // and a defined status, never an abort.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return tools::kExitBadInput;
    }
}
