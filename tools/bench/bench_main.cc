// viommu-bench: Google Benchmark cases for every hot path, plus the ratios to their baselines.
//
// Each case named "<group>/ours..." has a twin "<group>/baseline..." that does the same work the
// simplest way (no checks, or the data structure QEMU uses); after the run the ratio of their
// throughputs is printed (to stdout with the console format, to stderr with --benchmark_format=json).
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

namespace {

template <class Base>
class RatioReporter : public Base {
public:
    explicit RatioReporter(FILE* out) : out_(out) {}

    void ReportRuns(const std::vector<benchmark::BenchmarkReporter::Run>& runs) override
    {
        for (const auto& run : runs) {
            if (run.run_type != benchmark::BenchmarkReporter::Run::RT_Iteration || run.error_occurred)
                continue;
            const auto items = run.counters.find("items_per_second");
            if (items != run.counters.end())
                rates_[run.benchmark_name()] = items->second.value;
        }
        Base::ReportRuns(runs);
    }

    void Finalize() override
    {
        Base::Finalize();
        bool header = false;
        for (const auto& [name, rate] : rates_) {
            const auto pos = name.find("/ours");
            if (pos == std::string::npos)
                continue;
            std::string twin = name;
            twin.replace(pos, 5, "/baseline");
            const auto base = rates_.find(twin);
            if (base == rates_.end() || base->second == 0)
                continue;
            if (!header) {
                std::fprintf(out_, "\n%-60s %14s %14s %8s\n", "ratio (ours / baseline)", "ours/s", "baseline/s", "ratio");
                header = true;
            }
            std::fprintf(out_, "%-60s %14.4g %14.4g %8.2f\n", name.c_str(), rate, base->second, rate / base->second);
        }
    }

private:
    FILE* out_;
    std::map<std::string, double> rates_;
};

} // namespace

int main(int argc, char** argv)
{
    bool json = false;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--benchmark_format=json") == 0)
            json = true;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 2;
    if (json) {
        RatioReporter<benchmark::JSONReporter> reporter(stderr);
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        RatioReporter<benchmark::ConsoleReporter> reporter(stdout);
        benchmark::RunSpecifiedBenchmarks(&reporter);
    }
    benchmark::Shutdown();
    return 0;
}
