// fuzz-replay-script: viommu-replay's request scripts (system/replay/script.h, runner.h). The input
// starts with a device configuration in fuzz-requests' encoding (decode_device(), tests/fuzz/scenario.h:
// endpoints, granule, aw-bits, domain range, probe size, reserved regions, withheld and declined
// features, limits, event buffers); the rest is the script's text, capped at 4 KiB. What must hold:
//   - a script the parser refuses is refused at a line that exists and holds a word (comments and blank
//     lines cannot be wrong);
//   - every output line of a run is one JSON object (docs/replay.md), and the steps' lines come out in
//     the order of the script, one output line each, fault events in between.
// Whether the answers are the right ones is fuzz-differential's job; here the text front end and the
// runner around the device are under test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "system/replay/runner.h"
#include "system/replay/script.h"
#include "tests/fuzz/device_run.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/scenario.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace replay = viommu::system::replay;

namespace {

constexpr std::size_t kMaxScript = 4 << 10;

// The text of line `n` (1-based) without its comment, as parse_script() reads it.
std::string_view line_of(std::string_view text, std::size_t n)
{
    for (std::size_t i = 1; i < n; ++i) {
        const std::size_t nl = text.find('\n');
        if (nl == std::string_view::npos)
            return {};
        text.remove_prefix(nl + 1);
    }
    text = text.substr(0, text.find('\n'));
    return text.substr(0, text.find('#'));
}

void check_refusal(std::string_view text, const replay::ScriptError& error)
{
    const std::size_t lines = 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    if (error.line < 1 || error.line > lines)
        finding(fmt::format("fuzz-replay-script: refused at line {} of a script of {} lines: {}", error.line, lines,
                            error.message));
    const std::string_view line = line_of(text, error.line);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos)
        finding(fmt::format("fuzz-replay-script: refused at line {}, which holds no word: {}", error.line,
                            error.message));
    if (error.message.empty())
        finding(fmt::format("fuzz-replay-script: refused at line {} without a reason", error.line));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    ByteReader reader({data, size});
    const DeviceChoice device = decode_device(reader);
    const std::size_t at = size - reader.remaining();
    if (size - at > kMaxScript)
        return -1; // not kept in the corpus
    const std::string_view text(reinterpret_cast<const char*>(data + at), size - at);

    const auto steps = replay::parse_script(text);
    if (!steps) {
        check_refusal(text, steps.error());
        return 0;
    }
    replay::Runner runner({iommu_config(device), device.declined, device.event_buffers});
    if (auto ok = runner.start(); !ok)
        finding("fuzz-replay-script: the driver could not bring the device up: " + ok.error());
    std::size_t next_step = 0;
    runner.run(*steps, [&](const std::string& line) {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            finding(fmt::format("fuzz-replay-script: an output line that is not JSON ({}):\n{}", e.what(), line));
        }
        if (!j.is_object())
            finding("fuzz-replay-script: an output line that is not a JSON object:\n" + line);
        if (!j.contains("line"))
            return; // a fault event
        if (next_step >= steps->size() || j["line"] != (*steps)[next_step].line)
            finding(fmt::format("fuzz-replay-script: output for line {} where line {} was next:\n{}", j["line"].dump(),
                                next_step < steps->size() ? (*steps)[next_step].line : 0, line));
        ++next_step;
    });
    if (next_step != steps->size())
        finding(fmt::format("fuzz-replay-script: {} output lines for {} steps", next_step, steps->size()));
    return 0;
}
