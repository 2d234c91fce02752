// viommu-bench: Google Benchmark cases for every hot path, plus the ratios to their baselines.
//
// Each case named "<group>/ours..." has a twin "<group>/baseline..." that does the same work the
// simplest way (no checks, or the data structure QEMU uses), and may have more baselines named
// "<group>/baseline_<what>..."; after the run the ratio of ours to each baseline's throughput is printed
// (to stdout with the console format, to stderr with --benchmark_format=json). With
// --benchmark_repetitions the ratio is of the medians.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include "tools/common/cli.h"
#include "tools/common/logging.h"
#include "tools/common/version.h"

namespace {

template <class Base>
class RatioReporter : public Base {
public:
    explicit RatioReporter(FILE* out) : out_(out) {}

    void ReportRuns(const std::vector<benchmark::BenchmarkReporter::Run>& runs) override
    {
        using Run = benchmark::BenchmarkReporter::Run;
        for (const auto& run : runs) {
            if (run.error_occurred)
                continue;
            const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            if (run.run_type != Run::RT_Iteration && !median)
                continue;
            const auto items = run.counters.find("items_per_second");
            if (items != run.counters.end())
                (median ? medians_ : rates_)[run.run_name.str()] = items->second.value;
        }
        Base::ReportRuns(runs);
    }

    void Finalize() override
    {
        Base::Finalize();
        for (const auto& [name, rate] : medians_)
            rates_[name] = rate;
        bool header = false;
        // Rows name the baseline case, so a group with several baselines shows one row per baseline.
        for (const auto& [name, base_rate] : rates_) {
            const auto pos = name.find("/baseline");
            const auto end = pos == std::string::npos ? pos : name.find('/', pos + 1);
            if (end == std::string::npos || base_rate == 0)
                continue;
            std::string twin = name;
            twin.replace(pos, end - pos, "/ours");
            const auto ours = rates_.find(twin);
            if (ours == rates_.end())
                continue;
            if (!header) {
                std::fprintf(out_, "\n%-66s %14s %14s %8s\n", "ratio (ours / baseline), by baseline", "ours/s",
                             "baseline/s", "ratio");
                header = true;
            }
            std::fprintf(out_, "%-66s %14.4g %14.4g %8.2f\n", name.c_str(), ours->second, base_rate,
                         ours->second / base_rate);
        }
    }

private:
    FILE* out_;
    std::map<std::string, double> rates_;   // items per second of each case's (last) run
    std::map<std::string, double> medians_; // of each case's repetitions, when repeated
};

// --help: Google Benchmark's options, then viommu-bench's own and its exit statuses.
void print_help()
{
    benchmark::PrintDefaultHelp();
    std::printf("          [--version]\n"
                "          [--log-level=<trace|debug|info|warn|error|critical|off>]\n\n"
                "--log-level: the diagnostics on stderr (the devices' guest errors) at that level and above; "
                "default: info.\n"
                "--benchmark_out=- writes the report to standard output; the table and ratios then go to stderr.\n"
                "Exit status: 0 the benchmarks ran (or --help, --version); 2 an argument it does not know, or an "
                "unknown log level.\n");
}

} // namespace

int main(int argc, char** argv)
{
    viommu::tools::install_logger("viommu-bench");
    // Taken out before Google Benchmark reads the arguments, which refuses any it does not know.
    if (auto code = viommu::tools::take_log_level_argument(argc, argv))
        return *code;
    bool json = false;
    // --benchmark_out=- writes the file report to standard output, as "-" means for every viommu tool
    // (Google Benchmark would create a file named "-"); the console table and the ratios then go to
    // stderr, so that stdout parses.
    static char out_to_stdout_flag[] = "--benchmark_out=/dev/stdout";
    bool out_to_stdout = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--benchmark_format=json") == 0)
            json = true;
        if (std::strcmp(argv[i], "--benchmark_out=-") == 0) {
            argv[i] = out_to_stdout_flag;
            out_to_stdout = true;
            spdlog::debug("--benchmark_out=-: the report on standard output, the table and ratios on stderr");
        }
        // Google Benchmark has no --version of its own; answered before it reads the arguments.
        if (std::strcmp(argv[i], "--version") == 0) {
            std::printf("%s\n", viommu::tools::version_text("viommu-bench").c_str());
            return viommu::tools::kExitOk;
        }
    }
    benchmark::Initialize(&argc, argv, print_help);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return viommu::tools::kExitBadInput;
    if (json) {
        RatioReporter<benchmark::JSONReporter> reporter(stderr);
        if (out_to_stdout)
            reporter.SetOutputStream(&std::cerr);
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        RatioReporter<benchmark::ConsoleReporter> reporter(out_to_stdout ? stderr : stdout);
        if (out_to_stdout)
            reporter.SetOutputStream(&std::cerr);
        benchmark::RunSpecifiedBenchmarks(&reporter);
    }
    benchmark::Shutdown();
    return 0;
}
