// viommu-boot: boots synthetic guests described in libvirt domain XML (or the built-in default guest)
// under a kernel profile, and reports how their devices came up behind the virtio-iommu and which
// VFIO devices the kernel admits. docs/boot.md documents the options, the output and the JSON report.
//
// Exit codes: 0 every VFIO device admitted, 1 one was rejected, 2 bad input (a file libvirt refuses,
// an unknown profile, a bad option), 3 a guest viommu does not model (an IOMMU other than the
// virtio-iommu): no verdict is given for it. Several verdicts (files, --batch, --compare-kernels): the
// worst, 2 before 3 before 1.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/input_file.h"
#include "base/printable.h"
#include "base/trace/trace.h"
#include "guest-model/profiles/kernel_argument.h"
#include "system/boot/guest.h"
#include "system/boot/libvirt_domain.h"
#include "system/boot/report_format.h"
#include "system/boot/live_guest.h"
#include "system/boot/report_html.h"
#include "system/workload/cost_table.h"
#include "system/workload/pattern.h"
#include "system/monitor/guest_commands.h"
#include "system/monitor/server.h"
#include "tools/common/iommu_options.h"
#include "tools/common/cli.h"
#include "tools/common/output_file.h"
#include "tools/common/version.h"

using namespace viommu;
using namespace viommu::guest;
using namespace viommu::guest::profiles;
using namespace viommu::system::boot;
using namespace viommu::guest;

namespace {

// The "schema" of the --compare-kernels --json document; it changes when a field changes meaning.
constexpr int kCompareSchema = 1;

static_assert(tools::kExitNotModelled == kNotModelledExitCode);

constexpr const char* kExitStatuses =
    "Exit status: 0 every VFIO device admitted (or none asked for), 1 a VFIO device was rejected (with --strict, "
    "also one admitted only unsafely, ok!), 2 bad input (a file libvirt refuses, an unknown profile, a bad option "
    "or combination of options, an empty --batch directory), 3 a guest viommu does not model (an IOMMU other than "
    "the virtio-iommu): it gets no verdict. Several guests, --batch, and --compare-kernels (across its kernels): "
    "the worst, 2 before 3 before 1.";

// --strict: a device VFIO admitted only because allow_unsafe_interrupts is on (it can forge MSIs) counts
// as rejected, for a CI job that must not pass on an unsafe admission.
bool admitted_unsafely(const GuestReport& r)
{
    return std::any_of(r.devices.begin(), r.devices.end(),
                       [](const DeviceReport& d) { return d.vfio && d.vfio->admitted && d.vfio->unsafe; });
}

int verdict_exit_code(const GuestReport& r, bool strict)
{
    const int code = r.exit_code();
    return code == tools::kExitOk && strict && admitted_unsafely(r) ? tools::kExitRejected : code;
}

struct Input {
    std::string source; // file name, or the default guest's
    Expected<GuestSpec, DomainError> spec;
};

// The guest of a file (or the default guest's), refused as bad input when its virtio-iommu cannot take
// the properties it gives under the device profile that applies (a QEMU release without aw-bits, ...).
Input load(const std::string& path, const BootOptions& options)
{
    Input in = path.empty() ? Input{std::string(kDefaultGuestSource),
                                    parse_domain_xml(default_guest_xml(), kDefaultGuestSource)}
                            : Input{path, load_domain_file(path)};
    if (in.spec)
        spdlog::debug("{}: guest {}, {}", printable(in.source), printable(in.spec->name), arch_name(in.spec->arch));
    if (in.spec && in.spec->not_modelled.empty()) {
        if (const auto problems = iommu_option_problems(*in.spec, options); !problems.empty())
            in.spec = unexpected(DomainError{DomainError::Kind::kUnsupported, in.source, problems.front()});
    }
    return in;
}

// --json FILE, or standard output for "-".
bool write_file(const std::string& path, const std::string& text)
{
    if (auto written = tools::write_output(path, text); !written) {
        spdlog::error("{}", printable(written.error()));
        return false;
    }
    return true;
}

// "ok", "ok!" (admitted, unsafe), "EINVAL@bind", "g3" (a group, no VFIO), "-" (no group).
std::string matrix_cell(const DeviceReport& d)
{
    if (d.vfio) {
        if (d.vfio->admitted)
            return d.vfio->unsafe ? "ok!" : "ok";
        // The stage without its ioctl prefix: "EPERM@SET_IOMMU", "EINVAL@bind".
        std::string stage = vfio::stage_name(d.vfio->stage);
        for (const char* prefix : {"VFIO_GROUP_", "VFIO_"})
            if (stage.rfind(prefix, 0) == 0)
                stage.erase(0, std::strlen(prefix));
        if (stage == "bind vfio-pci")
            stage = "bind";
        return fmt::format("{}@{}", errno_text(d.vfio->error), stage);
    }
    return d.group ? fmt::format("g{}", *d.group) : "-";
}

// The device at bdf in one kernel's report, or nullptr: the matrix's cell lookup (text, JSON and HTML).
const DeviceReport* device_at(const GuestReport& r, const std::string& bdf)
{
    const auto d = std::find_if(r.devices.begin(), r.devices.end(), [&](const DeviceReport& x) { return x.bdf == bdf; });
    return d == r.devices.end() ? nullptr : &*d;
}

// The matrix as JSON: per device (the table's rows, in order) one entry per kernel, in the table's
// order, with the VFIO verdict as the table writes it (null for a device not given to VFIO) and the
// IOMMU group (null for none).
nlohmann::ordered_json matrix_json(const GuestSpec& spec, const std::vector<std::string>& kernels,
                                   const std::vector<GuestReport>& reports, const std::vector<std::string>& rows,
                                   const std::map<std::string, std::string>& what)
{
    nlohmann::ordered_json devices = nlohmann::ordered_json::array();
    for (const std::string& bdf : rows) {
        nlohmann::ordered_json per_kernel = nlohmann::ordered_json::array();
        for (std::size_t i = 0; i < kernels.size(); ++i) {
            nlohmann::ordered_json cell = {{"kernel", kernels[i]}, {"verdict", nullptr}, {"group", nullptr}};
            if (const DeviceReport* d = device_at(reports[i], bdf)) {
                if (d->vfio)
                    cell["verdict"] = matrix_cell(*d);
                if (d->group)
                    cell["group"] = *d->group;
            }
            per_kernel.push_back(std::move(cell));
        }
        devices.push_back({{"bdf", bdf}, {"label", what.at(bdf)}, {"kernels", std::move(per_kernel)}});
    }
    return {{"schema", kCompareSchema},
            {"guest", spec.name},
            {"arch", arch_name(spec.arch)},
            {"vfio_user", vfio::backend_name(reports.front().vfio_user)},
            {"kernels", kernels},
            {"devices", std::move(devices)}};
}

// A guest outside the model: said on the text stream (it is the answer, not a failure), and in the JSON.
int report_not_modelled(const GuestSpec& spec, const std::string& json_path, FILE* text)
{
    std::fprintf(text, "%s", render_not_modelled(spec.name, spec.not_modelled).c_str());
    if (!json_path.empty() && !write_file(json_path, render_not_modelled_json(spec.name, spec.not_modelled) + "\n"))
        return tools::kExitBadInput;
    return tools::kExitNotModelled;
}

// The exit status is the worst of the kernels' verdicts, as for several guests: a CI job comparing kernels
// fails when one of them rejects a device.
int compare_kernels(const GuestSpec& spec, const BootOptions& options, const std::string& json_path,
                    const std::string& html_path, bool strict, FILE* text)
{
    if (!spec.not_modelled.empty())
        return report_not_modelled(spec, json_path, text);
    // The built-in profiles of the guest's architecture, oldest kernel first (profiles.json's "compare"
    // list): a guest boots only kernels built for it.
    std::vector<std::string> kernels = Profile::comparison_names(spec.arch);
    std::vector<GuestReport> reports;
    for (const std::string& name : kernels) {
        auto p = Profile::named(name);
        if (!p) {
            spdlog::error("{}", p.error());
            return tools::kExitBadInput;
        }
        spdlog::debug("--compare-kernels: guest {} under {}", printable(spec.name), name);
        reports.push_back(boot_guest(spec, *p, options));
    }
    // Rows: every function the IOMMU can translate, VFIO ones first.
    std::vector<std::string> rows;
    std::map<std::string, std::string> what;
    for (const DeviceReport& d : reports.front().devices) {
        if (d.role == "bridge" || d.role == "host-bridge" || d.role == "virtio-iommu")
            continue;
        rows.push_back(d.bdf);
        what[d.bdf] = d.label;
    }
    std::size_t w0 = 6;
    for (const auto& r : rows)
        w0 = std::max(w0, r.size() + printable(what[r]).size() + 3);
    std::vector<std::size_t> widths;
    std::string head = fmt::format("{:<{}}", "DEVICE", w0);
    for (std::size_t i = 0; i < kernels.size(); ++i) {
        std::size_t w = kernels[i].size();
        for (const DeviceReport& d : reports[i].devices)
            w = std::max(w, matrix_cell(d).size());
        widths.push_back(w);
        head += fmt::format("  {:<{}}", kernels[i], w);
    }
    // An x86_64 guest's heading has said nothing of the architecture since before there were others.
    const std::string arch = spec.arch == Arch::kX86_64 ? "" : fmt::format(" {}", arch_name(spec.arch));
    std::fprintf(text,
                 "guest %s, VFIO user %s: VFIO verdict (ok, ok! admitted unsafely, ERRNO@stage) or IOMMU group (gN, - "
                 "none) per%s kernel\n\n%s\n",
                printable(spec.name).c_str(), vfio::backend_name(reports.front().vfio_user), arch.c_str(), head.c_str());
    for (const std::string& bdf : rows) {
        std::string line = fmt::format("{:<{}}", bdf + " (" + printable(what[bdf]) + ")", w0);
        for (std::size_t i = 0; i < kernels.size(); ++i) {
            const DeviceReport* d = device_at(reports[i], bdf);
            line += fmt::format("  {:<{}}", d ? matrix_cell(*d) : "?", widths[i]);
        }
        std::fprintf(text, "%s\n", line.c_str());
    }
    if (!json_path.empty() && !write_file(json_path, matrix_json(spec, kernels, reports, rows, what).dump(2) + "\n"))
        return tools::kExitBadInput;
    if (!html_path.empty()) {
        KernelMatrix m{spec.name,
                       fmt::format("{} guest, VFIO user {}", arch_name(spec.arch), vfio::backend_name(reports.front().vfio_user)),
                       kernels,
                       {}};
        for (const std::string& bdf : rows) {
            KernelMatrix::Row row{bdf, what[bdf], {}, {}};
            for (const GuestReport& r : reports) {
                const DeviceReport* d = device_at(r, bdf);
                // As the text table has it ("g3" for a device not given to VFIO), and a VFIO cell's group beside it.
                row.cells.push_back(d ? matrix_cell(*d) : "?");
                row.groups.push_back(d && d->vfio ? d->group : std::nullopt);
            }
            m.rows.push_back(std::move(row));
        }
        if (!write_file(html_path, render_matrix_html(m)))
            return tools::kExitBadInput;
    }
    int worst = tools::kExitOk;
    for (const GuestReport& r : reports)
        worst = std::max(worst, verdict_exit_code(r, strict));
    return worst;
}

// One line that redraws itself on a terminal: "[=====>      ] 37/200".
class Progress {
public:
    explicit Progress(std::size_t total) : total_(total), tty_(isatty(STDERR_FILENO) == 1) {}
    void step()
    {
        const std::size_t done = ++done_;
        // Progress is an info line: --log-level warn (or above) hides the bar too.
        if (!tty_ || !spdlog::should_log(spdlog::level::info))
            return;
        std::lock_guard lock(mutex_);
        constexpr std::size_t kWidth = 40;
        const std::size_t filled = total_ ? done * kWidth / total_ : kWidth;
        std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '=').c_str(),
                     std::string(kWidth - filled, ' ').c_str(), done, total_);
        if (done == total_)
            std::fprintf(stderr, "\n");
        std::fflush(stderr);
    }

private:
    std::size_t total_;
    bool tty_;
    std::atomic<std::size_t> done_{0};
    std::mutex mutex_;
};

// The kernel a guest boots: the one chosen with --kernel, which must be built for the guest's
// architecture, or else the built-in default of that architecture.
Expected<Profile, std::string> profile_for(const GuestSpec& spec, const std::optional<Profile>& chosen)
{
    if (!chosen) {
        spdlog::debug("guest {}: the default kernel profile of {}, {}", printable(spec.name), arch_name(spec.arch),
                      Profile::default_name(spec.arch));
        return default_profile(spec.arch);
    }
    if (auto why = arch_mismatch(spec, *chosen))
        return unexpected(*why);
    return *chosen;
}

int batch(const std::string& dir, const std::string& out_dir, unsigned jobs, const std::optional<Profile>& chosen,
          const BootOptions& options, const std::string& summary_json, const std::string& summary_html, bool strict,
          FILE* text)
{
    std::error_code ec;
    std::vector<std::string> files;
    // Entries named *.xml that are not regular files are reported, never followed: a link could name
    // /etc/shadow or /proc/self/environ, whose first line libvirt's error would print.
    std::map<std::string, std::string> skipped;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".xml")
            continue;
        const auto type = entry.symlink_status().type();
        if (type == std::filesystem::file_type::regular)
            files.push_back(entry.path().string());
        else
            skipped[entry.path().string()] = type == std::filesystem::file_type::symlink     ? "a symbolic link (not followed)"
                                             : type == std::filesystem::file_type::directory ? "a directory"
                                                                                               : "not a regular file";
    }
    if (ec) {
        spdlog::error("cannot read directory {}: {}", dir, ec.message());
        return tools::kExitBadInput;
    }
    for (const auto& [file, why] : skipped)
        files.push_back(file);
    // A CI job pointed at the wrong directory must not pass having checked nothing.
    if (files.empty()) {
        spdlog::error("--batch {}: no *.xml file there, no guest to boot", printable(dir));
        return tools::kExitBadInput;
    }
    std::sort(files.begin(), files.end());
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
        spdlog::error("cannot create {}: {}", out_dir, ec.message());
        return tools::kExitBadInput;
    }
    // Every guest boots on its own machine; the results go to their own slot, so the output is the same
    // whatever the number of threads.
    struct Result {
        std::optional<GuestReport> report;
        const char* status = "invalid"; // without a report: "invalid", "failed", "skipped" or "not-modelled"
        std::string error;              // for "not-modelled": why
        std::string guest;              // the domain's name, for "not-modelled"
    };
    std::vector<Result> results(files.size());
    Progress progress(files.size());
    {
        boost::asio::thread_pool pool(jobs);
        for (std::size_t i = 0; i < files.size(); ++i) {
            boost::asio::post(pool, [&, i] {
                Result& result = results[i];
                if (const auto it = skipped.find(files[i]); it != skipped.end()) {
                    result.status = "skipped";
                    result.error = it->second;
                } else if (Input in = load(files[i], options); !in.spec) {
                    result.error = in.spec.error().what();
                } else if (!in.spec->not_modelled.empty()) {
                    result.status = "not-modelled";
                    result.error = in.spec->not_modelled;
                    result.guest = in.spec->name;
                } else if (auto profile = profile_for(*in.spec, chosen); !profile) {
                    result.error = profile.error();
                } else {
                    // A guest the boot cannot take (RAM the host cannot map, memory exhausted) is that
                    // guest's result; an exception must not leave the pool and end the batch.
                    try {
                        const trace::ScopedContext trace_context(in.spec->name); // its trace lines say whose
                        result.report = boot_guest(*in.spec, *profile, options);
                    } catch (const std::exception& e) {
                        result.status = "failed";
                        result.error = e.what();
                    }
                }
                progress.step();
            });
        }
        pool.join();
    }
    std::map<std::string, std::size_t> unbooted; // status -> guests
    std::size_t admitted = 0, rejected = 0, admitted_unsafe = 0;
    nlohmann::json summary = nlohmann::json::array();
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string stem = printable(std::filesystem::path(files[i]).stem().string());
        if (!results[i].report) {
            ++unbooted[results[i].status];
            if (std::string_view(results[i].status) == "not-modelled") {
                std::fprintf(text, "%-40s not modelled: %s\n", stem.c_str(), printable(results[i].error).c_str());
                if (auto written = tools::replace_file((std::filesystem::path(out_dir) / (stem + ".json")).string(),
                                                       render_not_modelled_json(results[i].guest, results[i].error));
                    !written) {
                    spdlog::error("{}", written.error());
                    return tools::kExitBadInput;
                }
                summary.push_back({{"file", files[i]}, {"status", results[i].status}, {"guest", results[i].guest},
                                   {"reason", results[i].error}});
                continue;
            }
            std::fprintf(text, "%-40s %s: %s\n", stem.c_str(), results[i].status, printable(results[i].error).c_str());
            summary.push_back({{"file", files[i]}, {"status", results[i].status}, {"error", results[i].error}});
            continue;
        }
        const GuestReport& r = *results[i].report;
        const int code = r.exit_code();
        code == 0 ? ++admitted : ++rejected;
        if (code == 0 && strict && admitted_unsafely(r))
            ++admitted_unsafe;
        unsigned vfio = 0, ok = 0;
        for (const DeviceReport& d : r.devices)
            if (d.vfio) {
                ++vfio;
                ok += d.vfio->admitted ? 1 : 0;
            }
        std::fprintf(text, "%-40s %s (%u of %u VFIO devices admitted)\n", stem.c_str(),
                     code == 0 ? "admitted" : "rejected", ok, vfio);
        if (auto written = tools::replace_file((std::filesystem::path(out_dir) / (stem + ".json")).string(),
                                               render_json(r));
            !written) {
            spdlog::error("{}", written.error());
            return tools::kExitBadInput;
        }
        summary.push_back({{"file", files[i]}, {"status", code == 0 ? "admitted" : "rejected"},
                           {"vfio_devices", vfio}, {"vfio_admitted", ok}});
    }
    std::string tally = fmt::format("{} guests: {} admitted, {} rejected, {} invalid", files.size(), admitted, rejected,
                                    unbooted["invalid"]);
    for (const char* status : {"failed", "skipped"})
        if (unbooted[status])
            tally += fmt::format(", {} {}", unbooted[status], status);
    if (unbooted["not-modelled"])
        tally += fmt::format(", {} not modelled", unbooted["not-modelled"]);
    std::fprintf(text, "\n%s\n", tally.c_str());
    if (admitted_unsafe)
        spdlog::warn("--strict: {} admitted only unsafely, counted as rejected", admitted_unsafe);
    // A file name need not be UTF-8; JSON must be (invalid bytes become U+FFFD rather than an exception).
    const std::string summary_text = summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (!summary_json.empty() && !write_file(summary_json, summary_text))
        return tools::kExitBadInput;
    if (!summary_html.empty()) {
        std::vector<BatchEntry> entries;
        for (std::size_t i = 0; i < files.size(); ++i) {
            const nlohmann::json& e = summary[i];
            std::string detail = e.value("error", e.value("reason", std::string()));
            if (e.contains("vfio_devices"))
                detail = fmt::format("{} of {} VFIO devices admitted", e["vfio_admitted"].get<unsigned>(),
                                     e["vfio_devices"].get<unsigned>());
            entries.push_back({files[i], e.value("guest", results[i].report ? results[i].report->guest : std::string()),
                               e["status"].get<std::string>(), detail});
        }
        if (!write_file(summary_html, render_batch_html(entries)))
            return tools::kExitBadInput;
    }
    // A guest that was not booted (invalid, failed or skipped) is bad input: the batch did not check it.
    if (unbooted["invalid"] + unbooted["failed"] + unbooted["skipped"])
        return tools::kExitBadInput;
    // A guest the model cannot answer for outweighs a rejection: the batch has no verdict for it.
    if (unbooted["not-modelled"])
        return tools::kExitNotModelled;
    return rejected + admitted_unsafe ? tools::kExitRejected : tools::kExitOk;
}

// --workload PATTERN [--workload-costs FILE]: the pattern, and the cost table with the file's costs.
Expected<system::workload::Request, std::string> workload_request(const std::string& pattern, const std::string& costs_path)
{
    namespace workload = system::workload;
    workload::Request request;
    request.pattern = workload::find_pattern(pattern);
    if (!request.pattern) {
        std::string known;
        for (const workload::Pattern& p : workload::patterns())
            known += (known.empty() ? "" : ", ") + std::string(p.name);
        return unexpected(fmt::format("--workload: unknown pattern \"{}\" (known: {}; --workload help)", pattern, known));
    }
    if (costs_path.empty())
        return request;
    constexpr std::size_t kMaxCostFile = 1 << 20;
    auto text = read_input_file(costs_path, kMaxCostFile);
    if (!text)
        return unexpected(fmt::format("--workload-costs {}: {}", costs_path, text.error().reason));
    auto table = workload::parse_cost_table(*text);
    if (!table)
        return unexpected(fmt::format("--workload-costs {}: {}", costs_path, table.error()));
    request.costs = std::move(*table);
    request.costs_from_file = true;
    return request;
}

// --qmp: the guest stays up behind a QMP monitor (docs/monitor.md) until a client sends quit; 0 then.
int serve_monitor(const GuestSpec& spec, const Profile& profile, const BootOptions& options, const std::string& path,
                  bool show_log, FILE* text)
{
    LiveGuest guest(spec, profile, options);
    const GuestReport report = guest.report();
    if (show_log)
        std::fprintf(text, "%s\n", report.dmesg.c_str());
    std::fprintf(text, "%s", render_table(report).c_str());
    std::fflush(text);
    try {
        spdlog::info("QMP monitor on unix:{} until quit", printable(path));
        system::monitor::serve_guest(guest, path, system::monitor::monitor_version(tools::version_text("viommu-boot")));
    } catch (const std::runtime_error& e) {
        spdlog::error("--qmp: {}", printable(e.what()));
        return tools::kExitBadInput;
    }
    return tools::kExitOk;
}

} // namespace

int run(int argc, char** argv)
{
    CLI::App app{"viommu-boot: boot guests described in libvirt domain XML behind a virtio-iommu and report "
                 "their devices, IOMMU groups and VFIO verdicts"};
    app.footer(kExitStatuses);
    tools::CommonOptions common;
    tools::add_common_options(app, common, "viommu-boot");
    std::vector<std::string> files;
    std::string kernel; // none: each guest's architecture's default
    std::string json_path;
    std::string html_path;
    std::string batch_dir;
    std::string out_dir;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    bool show_log = false;
    bool dyndbg = false;
    bool compare = false;
    bool list_kernels = false;
    bool strict = false;
    std::string device_profile = "spec";
    std::string vfio_user;
    std::string workload_pattern;
    std::string workload_costs;
    auto* domain_opt = app.add_option("domain", files, "libvirt domain XML files (none: the built-in default guest)")
                           ->check(CLI::ExistingFile);
    auto* kernel_opt = app.add_option(
        "-k,--kernel", kernel,
        fmt::format("Kernel profile: a built-in name (--list-kernels), a version (5.19.8), a release as `uname -r` "
                    "prints it (6.1.0-18-amd64), a kernel's configuration (/boot/config-RELEASE, /proc/config.gz) or a "
                    "profile JSON file, built for the guest's architecture [default: {} for x86_64 guests, {} for "
                    "aarch64 ones]",
                    Profile::default_name(Arch::kX86_64), Profile::default_name(Arch::kAarch64)));
    auto* json_opt = app.add_option("--json", json_path,
                                    "Write the report as JSON to FILE, '-' for standard output (the text then goes to "
                                    "stderr); with --batch: the summary; with --compare-kernels: the matrix");
    auto* html_opt = app.add_option("--html", html_path,
                                    "Write the report as one self-contained HTML page to FILE ('-' for standard "
                                    "output): the PCI tree, the IOMMU groups, each VFIO verdict with its rule; with "
                                    "--batch: the summary; with --compare-kernels: the matrix");
    auto* log_opt = app.add_flag("--log", show_log, "Print the guest's kernel log (dmesg) before the table");
    auto* dyndbg_opt = app.add_flag("--dyndbg", dyndbg,
                                    "Dynamic debug on: the log (--log, and the JSON report's dmesg) also gets the "
                                    "kernel's dev_dbg() and pr_debug() lines");
    auto* compare_opt = app.add_flag("--compare-kernels", compare,
                                     "Boot the guest under every built-in profile of its architecture; print a "
                                     "device x kernel matrix; exit with the worst verdict");
    auto* list_opt = app.add_flag("--list-kernels", list_kernels, "List the built-in kernel profiles");
    auto* strict_opt = app.add_flag("--strict", strict,
                                    "A VFIO device admitted only unsafely (allow_unsafe_interrupts: ok!) counts as "
                                    "rejected for the exit status");
    tools::add_device_profile_option(app, device_profile);
    auto* vfio_user_opt =
        app.add_option("--vfio-user", vfio_user,
                       "How the guest's user drives VFIO: type1 (VFIO's container), iommufd-compat (iommufd's compat "
                       "container) or iommufd (the device cdev); default: the domain's <viommu:vfio backend>, else type1")
            ->check(CLI::IsMember({"type1", "iommufd-compat", "iommufd"}));
    auto* workload_opt = app.add_option(
        "--workload", workload_pattern,
        "After the boot, run an I/O pattern through every disk or NIC it applies to and report per I/O the "
        "virtio-iommu's MAP and UNMAP requests, kicks, syncs, IOTLB flushes and a modelled latency ('help' lists "
        "the patterns)");
    app.add_option("--workload-costs", workload_costs,
                       "With --workload: a JSON cost table (nanoseconds per event) replacing the built-in costs it "
                       "names (docs/PERFORMANCE.md)")
            ->needs(workload_opt);
    std::string qmp;
    auto* qmp_opt = app.add_option("--qmp", qmp,
                                   "Keep the booted guest alive behind a QMP monitor on unix:PATH (QEMU's wire "
                                   "protocol; docs/monitor.md) until a client sends quit");
    auto* batch_opt = app.add_option("--batch", batch_dir, "Boot every *.xml in DIR concurrently")
                          ->check(CLI::ExistingDirectory);
    auto* out_opt = app.add_option("--out", out_dir, "With --batch: where the per-guest JSON reports go (default: DIR)")
                        ->needs(batch_opt);
    auto* jobs_opt =
        app.add_option("-j,--jobs", jobs, "With --batch: threads (default: all cores)")->check(CLI::Range(1u, 1024u))
            ->needs(batch_opt);
    // No option is silently ignored: a combination in which one has no effect is refused, naming both.
    // --list-kernels boots nothing; --compare-kernels chooses the kernels itself and prints no log;
    // --batch prints no log (each guest's JSON report holds it).
    for (CLI::Option* other : {domain_opt, kernel_opt, json_opt, html_opt, log_opt, dyndbg_opt, compare_opt, strict_opt,
                               app.get_option("--device-profile"), vfio_user_opt, batch_opt, out_opt, jobs_opt})
        list_opt->excludes(other);
    for (CLI::Option* other : {kernel_opt, log_opt, dyndbg_opt, batch_opt})
        compare_opt->excludes(other);
    // The workload's report is one guest's under one kernel: a batch has no place for it, and a kernel
    // comparison is one run per --kernel (docs/boot.md, "Workload").
    for (CLI::Option* other : {list_opt, compare_opt, batch_opt})
        workload_opt->excludes(other);
    batch_opt->excludes(domain_opt)->excludes(log_opt);
    for (CLI::Option* other : {json_opt, html_opt, compare_opt, strict_opt, batch_opt, list_opt})
        qmp_opt->excludes(other);
    VIOMMU_PARSE(app, argc, argv);
    if (auto code = tools::apply_common_options(common))
        return *code;
    // --dyndbg changes only the kernel log: it needs something that shows the log.
    if (dyndbg && !show_log && json_path.empty() && batch_dir.empty()) {
        spdlog::error("--dyndbg adds to the kernel log, which only --log, --json or --batch show");
        return tools::kExitBadInput;
    }
    // With the JSON on standard output, the text (table, matrix, batch lines) goes to stderr so that stdout
    // parses.
    if (json_path == tools::kStandardOutput && html_path == tools::kStandardOutput) {
        spdlog::error("--json - and --html - cannot both have standard output");
        return tools::kExitBadInput;
    }
    FILE* text = json_path == tools::kStandardOutput || html_path == tools::kStandardOutput ? stderr : stdout;

    if (list_kernels) {
        for (const std::string& name : Profile::builtin_names()) {
            auto p = Profile::named(name);
            const std::string arch(p && p->arch() ? arch_name(*p->arch()) : "");
            std::printf("%-21s %-8s %s\n", name.c_str(), arch.c_str(), p ? p->description().c_str() : p.error().c_str());
        }
        return tools::kExitOk;
    }
    std::optional<Profile> chosen;
    if (!kernel.empty()) {
        auto choice = resolve_kernel_argument(kernel);
        if (!choice) {
            spdlog::error("--kernel: {}", printable_lines(choice.error()));
            return tools::kExitBadInput;
        }
        // A configuration file or a uname release: which profile that became, and why, before the answer.
        if (!choice->how.empty())
            spdlog::info("--kernel: {}", printable(choice->how));
        else
            spdlog::debug("--kernel {}: profile {}", printable(kernel), choice->profile.name());
        chosen = std::move(choice->profile);
    }
    BootOptions options;
    options.dynamic_debug = dyndbg;
    // Given, the option applies to every guest; else each guest's own <viommu:iommu device-profile>.
    if (app.count("--device-profile"))
        options.device = tools::device_behaviour(device_profile);
    if (!vfio_user.empty())
        options.vfio_user = vfio::backend_named(vfio_user);
    if (!workload_pattern.empty()) {
        if (workload_pattern == "help") {
            std::printf("%s", system::workload::describe_patterns().c_str());
            return tools::kExitOk;
        }
        auto request = workload_request(workload_pattern, workload_costs);
        if (!request) {
            spdlog::error("{}", printable_lines(request.error()));
            return tools::kExitBadInput;
        }
        options.workload = std::move(*request);
    }

    if (!batch_dir.empty())
        return batch(batch_dir, out_dir.empty() ? batch_dir : out_dir, jobs, chosen, options, json_path, html_path, strict, text);
    if (files.empty())
        files.push_back(""); // the default guest
    std::string qmp_path;
    if (!qmp.empty()) {
        auto address = system::monitor::parse_qmp_address(qmp);
        if (!address) {
            spdlog::error("{}", printable(address.error()));
            return tools::kExitBadInput;
        }
        if (files.size() > 1) {
            spdlog::error("--qmp takes one guest");
            return tools::kExitBadInput;
        }
        qmp_path = *address;
    }
    if ((!json_path.empty() || !html_path.empty()) && files.size() > 1) {
        spdlog::error("--{} takes one guest (use --batch for many)", json_path.empty() ? "html" : "json");
        return tools::kExitBadInput;
    }
    int worst = tools::kExitOk;
    for (const std::string& file : files) {
        Input in = load(file, options);
        if (!in.spec) {
            spdlog::error("{}", printable_lines(in.spec.error().what()));
            return tools::kExitBadInput;
        }
        if (file.empty())
            std::fprintf(text, "No domain XML given: booting the built-in default guest (viommu-boot --help).\n\n");
        if (compare) {
            const int code = compare_kernels(*in.spec, options, json_path, html_path, strict, text);
            if (code == tools::kExitBadInput)
                return code;
            worst = std::max(worst, code);
            continue;
        }
        if (!in.spec->not_modelled.empty()) {
            if (const int code = report_not_modelled(*in.spec, json_path, text); code == tools::kExitBadInput)
                return code;
            worst = std::max(worst, tools::kExitNotModelled);
            continue;
        }
        const auto profile = profile_for(*in.spec, chosen);
        if (!profile) {
            spdlog::error("{}: {}", printable(in.source), printable_lines(profile.error()));
            return tools::kExitBadInput;
        }
        if (!qmp_path.empty())
            return serve_monitor(*in.spec, *profile, options, qmp_path, show_log, text);
        const GuestReport report = boot_guest(*in.spec, *profile, options);
        if (show_log)
            std::fprintf(text, "%s\n", report.dmesg.c_str());
        std::fprintf(text, "%s", render_table(report).c_str());
        if (!json_path.empty() && !write_file(json_path, render_json(report) + "\n"))
            return tools::kExitBadInput;
        if (!html_path.empty() && !write_file(html_path, render_html(report)))
            return tools::kExitBadInput;
        const int code = verdict_exit_code(report, strict);
        if (code != report.exit_code())
            spdlog::warn("--strict: {} admitted a VFIO device only unsafely, counted as rejected",
                         printable(report.guest));
        worst = std::max(worst, code);
    }
    return worst;
}

int main(int argc, char** argv)
{
    tools::install_logger("viommu-boot");
    // A spec the boot cannot take is a bug in a front end, not bad input; still, say so and stop with a
    // defined status rather than abort.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        spdlog::error("internal error: {}", e.what());
        return tools::kExitBadInput;
    }
}
