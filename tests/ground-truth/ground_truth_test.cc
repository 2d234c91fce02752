// The model against every recorded real boot (tests/ground-truth/recordings/NAME, made by
// scripts/record-truth): each disagreement must be a known difference with its reason
// (tests/ground-truth/known-differences.json, listed in docs/ground-truth.md), never tolerated silently.
// No QEMU here: the recordings are the real side.
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>

#include <catch2/catch.hpp>

#include "system/boot/libvirt_domain.h"
#include "system/truth/diff.h"
#include "system/truth/model_run.h"
#include "system/truth/probe_records.h"
#include "system/truth/recording.h"
#include "system/truth/text_file.h"
#include "system/truth/trace_requests.h"

using namespace viommu;
using namespace viommu::system;
using namespace viommu::system::truth;
namespace fs = std::filesystem;

namespace {

std::vector<Recording> recordings()
{
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(VIOMMU_RECORDINGS_DIR))
        if (e.is_directory())
            dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    std::vector<Recording> out;
    for (const fs::path& d : dirs) {
        auto r = read_recording(d);
        INFO(d.string());
        REQUIRE(r);
        out.push_back(std::move(*r));
    }
    return out;
}

std::vector<KnownDifference> known_differences()
{
    const auto text = read_text_file(VIOMMU_KNOWN_DIFFERENCES);
    REQUIRE(text);
    auto known = parse_known_differences(*text);
    INFO((known ? "" : known.error()));
    REQUIRE(known);
    return *known;
}

Observation model_of(const Recording& r)
{
    auto spec = boot::parse_domain_xml(r.domain_xml, r.name + "/domain.xml");
    INFO(r.name);
    REQUIRE(spec);
    auto profile = guest::profiles::Profile::named(r.profile);
    REQUIRE(profile);
    return run_model(*spec, *profile);
}

std::vector<Difference> differences(const Recording& r, const std::vector<KnownDifference>& known)
{
    std::vector<Difference> d = diff(model_of(r), r.real);
    mark_known(d, known, r.name);
    return d;
}

std::string unknown_ones(const std::vector<Difference>& d)
{
    std::string out;
    for (const Difference& x : d)
        if (x.known.empty())
            out += x.field + ": model " + x.model + ", real " + x.real + "\n";
    return out;
}

} // namespace

TEST_CASE("the model agrees with every recorded real boot, or the difference is known with its reason",
          "[integration][truth]")
{
    const auto known = known_differences();
    const auto all = recordings();
    REQUIRE(all.size() >= 1);
    for (const Recording& r : all) {
        DYNAMIC_SECTION(r.name)
        {
            CHECK(unknown_ones(differences(r, known)) == "");
        }
    }
}

TEST_CASE("every known difference is one some recording shows", "[integration][truth]")
{
    const auto known = known_differences();
    const auto all = recordings();
    for (const KnownDifference& k : known) {
        bool shown = false;
        for (const Recording& r : all) {
            if (fnmatch(k.recording.c_str(), r.name.c_str(), 0) != 0)
                continue;
            for (const Difference& d : diff(model_of(r), r.real))
                shown = shown || fnmatch(k.field.c_str(), d.field.c_str(), 0) == 0;
        }
        INFO(k.field << " in " << k.recording);
        CHECK(shown);
    }
}

TEST_CASE("a recording's report is what its console and trace read into", "[integration][truth]")
{
    for (const Recording& r : recordings()) {
        DYNAMIC_SECTION(r.name)
        {
            const auto probe = parse_probe_output(r.console);
            REQUIRE(probe);
            Observation parsed = observation_from_probe(*probe);
            TraceRequests requests = trace_requests(r.trace);
            parsed.endpoints = std::move(requests.endpoints);
            parsed.attach_order = std::move(requests.attach_order);
            CHECK(unknown_ones(diff(parsed, r.real)) == "");
            CHECK(parsed.kernel_version == r.real.kernel_version);
        }
    }
}

TEST_CASE("a recorded group number flipped is a difference no known entry covers", "[integration][truth]")
{
    const auto known = known_differences();
    for (Recording r : recordings()) {
        auto grouped = std::find_if(r.real.devices.begin(), r.real.devices.end(),
                                    [](const DeviceObservation& d) { return d.group.has_value(); });
        if (grouped == r.real.devices.end())
            continue;
        grouped->group = *grouped->group + 100;
        CHECK_THAT(unknown_ones(differences(r, known)), Catch::Contains(grouped->bdf + "/group"));
        return;
    }
    FAIL("no recording has a device with an IOMMU group");
}
