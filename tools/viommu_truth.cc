// viommu-truth: boots a libvirt domain for real (QEMU, TCG, a Debian kernel, truth-probe in its
// initramfs), runs viommu-boot's model on the same guest and kernel profile, and prints where the two
// disagree. docs/ground-truth.md documents the mapping, the stand-in devices and the known differences.
//
// Exit codes: 0 the model agrees (every difference, if any, is a known one given with --known), 1 it
// disagrees, 2 bad input (an XML libvirt refuses or the mapping cannot boot, an unknown profile, a bad
// option), 3 the real boot failed (timeout, kernel panic, no probe output, a download that failed).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "system/boot/libvirt_domain.h"
#include "system/truth/diff.h"
#include "system/truth/model_run.h"
#include "system/truth/qemu_command.h"
#include "system/truth/real_boot.h"
#include "system/truth/recording.h"
#include "system/truth/text_file.h"
#include "tools/common/cli.h"
#include "tools/common/logging.h"
#include "tools/common/output_file.h"

using namespace viommu;
using namespace viommu::system;
namespace fs = std::filesystem;

namespace {

constexpr int kExitBootFailed = 3;

// truth-probe is built next to this program: meson builds it for the host (tools/truth-probe), and
// scripts/record-truth cross-compiles truth-probe-aarch64 for arm64 guests.
fs::path probe_next_to_us(guest::profiles::Arch guest_arch)
{
    std::error_code ec;
    return fs::read_symlink("/proc/self/exe", ec).parent_path() /
           (guest_arch == guest::profiles::Arch::kX86_64 ? "truth-probe" : "truth-probe-aarch64");
}

// Prints the differences (stdout), writes them as JSON; 0 when none is unknown, else 1.
int compare(const truth::Observation& model, const truth::Observation& real,
            const std::vector<truth::KnownDifference>& known, const std::string& recording_name,
            const std::string& json_path)
{
    std::vector<truth::Difference> differences = truth::diff(model, real);
    truth::mark_known(differences, known, recording_name);
    bool unknown = false;
    for (const truth::Difference& d : differences)
        unknown = unknown || d.known.empty();
    // With the JSON on standard output (--json -), the table goes to stderr so that stdout parses.
    FILE* text = json_path == tools::kStandardOutput ? stderr : stdout;
    std::fprintf(text, "guest %s, kernel %s: model and real boot %s\n", model.guest.c_str(), model.kernel.c_str(),
                 differences.empty() ? "agree" : unknown ? "disagree" : "differ only where known");
    std::fprintf(text, "%s", truth::render_table(differences).c_str());
    const std::string json = truth::differences_json(model, differences).dump(2) + "\n";
    if (!json_path.empty())
        if (auto written = json_path == tools::kStandardOutput ? tools::write_output(json_path, json)
                                                               : tools::replace_file(json_path, json);
            !written) {
            spdlog::error("{}", written.error());
            return tools::kExitBadInput;
        }
    return unknown ? tools::kExitRejected : tools::kExitOk;
}

} // namespace

int main(int argc, char** argv)
{
    tools::install_logger("viommu-truth");
    CLI::App app{"viommu-truth: boot a libvirt domain for real under QEMU and compare it with viommu-boot's model"};
    std::string xml_path;
    std::string kernel = "debian-12-6.12";
    std::string cache;
    unsigned time_limit = 300;
    std::string json_path;
    std::string record_dir;
    std::string known_path;
    std::string probe;
    std::string recording;
    std::string log_level = tools::kDefaultLogLevel;
    tools::add_version_option(app, "viommu-truth");
    tools::add_log_level_option(app, log_level);
    app.add_option("domain", xml_path, "libvirt domain XML (none: viommu-boot's built-in default guest)");
    auto* kernel_opt = app.add_option("-k,--kernel", kernel, "kernel profile to boot for real")->capture_default_str();
    auto* cache_opt = app.add_option("--cache", cache,
                                     "where kernels are downloaded and unpacked (default $XDG_CACHE_HOME/viommu)");
    auto* time_limit_opt =
        app.add_option("--time-limit", time_limit, "seconds the real boot may take")->capture_default_str();
    app.add_option("--json", json_path, "write the differences as JSON to FILE, '-' for standard output (the table "
                                        "then goes to stderr)");
    auto* record_opt = app.add_option("--record", record_dir, "keep the real boot in DIR (tests/ground-truth/recordings/NAME)");
    app.add_option("--known", known_path, "known differences (tests/ground-truth/known-differences.json)");
    auto* probe_opt = app.add_option("--probe", probe, "truth-probe (default: the one built next to viommu-truth)");
    auto* recording_opt =
        app.add_option("--recording", recording,
                       "compare the model with a recorded real boot (its domain.xml and kernel) instead of booting")
            ->excludes("domain");
    // A recording brings its own kernel and boots nothing: the options of a real boot mean nothing with it.
    for (CLI::Option* other : {kernel_opt, cache_opt, time_limit_opt, record_opt, probe_opt})
        recording_opt->excludes(other);
    app.footer("Exit status: 0 the model agrees (or differs only where --known says why), 1 it disagrees, 2 bad "
               "input, 3 the real boot failed.");
    VIOMMU_PARSE(app, argc, argv);
    tools::set_log_level(log_level);

    std::optional<truth::Recording> recorded;
    if (!recording.empty()) {
        auto r = truth::read_recording(recording);
        if (!r) {
            spdlog::error("{}", r.error());
            return tools::kExitBadInput;
        }
        recorded = std::move(*r);
        kernel = recorded->profile;
        spdlog::debug("recording {}: {}, kernel profile {}", recording, recorded->name, kernel);
    }
    const truth::TruthProfile* profile = truth::truth_profile(kernel);
    if (!profile) {
        spdlog::error("no Debian kernel for profile {} (known: {})", kernel, truth::truth_profile_names());
        return tools::kExitBadInput;
    }
    auto model_profile = guest::profiles::Profile::named(kernel);
    if (!model_profile) {
        spdlog::error("{}", model_profile.error());
        return tools::kExitBadInput;
    }
    std::string xml_text(recorded ? recorded->domain_xml : std::string(boot::default_guest_xml()));
    if (!xml_path.empty()) {
        auto text = truth::read_text_file(xml_path);
        if (!text) {
            spdlog::error("cannot read {}", xml_path);
            return tools::kExitBadInput;
        }
        xml_text = std::move(*text);
    }
    const std::string source = recorded ? recording + "/" + truth::kRecordedXml
                               : xml_path.empty() ? std::string(boot::kDefaultGuestSource) : xml_path;
    auto spec = boot::parse_domain_xml(xml_text, source);
    if (!spec) {
        spdlog::error("{}", spec.error().what());
        return tools::kExitBadInput;
    }
    spdlog::debug("{}: guest {}, model under kernel profile {}", source, spec->name, model_profile->name());
    if (spec->arch != profile->arch) {
        spdlog::error("{} is an {} guest and {} an {} kernel", spec->name, guest::profiles::arch_name(spec->arch), kernel,
                      guest::profiles::arch_name(profile->arch));
        return tools::kExitBadInput;
    }
    auto plan = truth::qemu_plan(*spec);
    if (!plan) {
        spdlog::error("cannot boot {} for real: {}", spec->name, plan.error());
        return tools::kExitBadInput;
    }
    std::vector<truth::KnownDifference> known;
    if (!known_path.empty()) {
        auto text = truth::read_text_file(known_path);
        auto parsed = text ? truth::parse_known_differences(*text)
                           : Expected<std::vector<truth::KnownDifference>, std::string>(
                                 unexpected("cannot read " + known_path));
        if (!parsed) {
            spdlog::error("{}", parsed.error());
            return tools::kExitBadInput;
        }
        known = std::move(*parsed);
        spdlog::debug("{}: {} known differences", known_path, known.size());
    }

    const truth::Observation model = truth::run_model(*spec, *model_profile);
    if (recorded)
        return compare(model, recorded->real, known, recorded->name, json_path);

    truth::RealBootOptions options;
    options.cache = cache.empty() ? truth::default_cache_dir() : fs::path(cache);
    options.probe = probe.empty() ? probe_next_to_us(profile->arch) : fs::path(probe);
    options.time_limit = std::chrono::seconds(time_limit);
    spdlog::debug("real boot of {} under {}: kernels cached in {}, probe {}, {} s at most", spec->name, kernel,
                  options.cache.string(), options.probe.string(), time_limit);
    for (const std::string& note : plan->notes)
        spdlog::warn("stand-in: {}", note);
    auto real = truth::real_boot(*spec, *plan, *profile, options);
    if (!real) {
        spdlog::error("the real boot failed: {}", real.error().message);
        if (!real.error().work.empty())
            spdlog::error("its files are in {}", real.error().work.string());
        return kExitBootFailed;
    }
    spdlog::info("real boot of {} under {} ({}, {}) took {:.1f} s", spec->name, kernel, real->kernel.package,
                 real->kernel.version, real->seconds);

    if (!record_dir.empty()) {
        if (auto written = truth::write_recording(record_dir, xml_text, *real); !written) {
            spdlog::error("{}", written.error());
            return tools::kExitBadInput;
        }
    }

    return compare(model, real->observation, known,
                   record_dir.empty() ? "" : fs::path(record_dir).filename().string(), json_path);
}
