// --trace in QEMU's forms (docs/devel/tracing.rst: -trace [[enable=]PATTERN][,events=FILE][,file=FILE]).
#include <catch2/catch.hpp>

#include "base/trace/trace_option.h"

using namespace viommu::trace;

TEST_CASE("A bare pattern and enable=PATTERN both enable", "[unit][trace]")
{
    const auto bare = parse_trace_option("virtio_iommu_*");
    REQUIRE(bare);
    CHECK(bare->patterns == std::vector<std::string>{"virtio_iommu_*"});
    const auto keyed = parse_trace_option("enable=virtio_iommu_map");
    REQUIRE(keyed);
    CHECK(keyed->patterns == std::vector<std::string>{"virtio_iommu_map"});
}

TEST_CASE("enable=, events= and file= combine, comma-separated, as QEMU takes them", "[unit][trace]")
{
    const auto o = parse_trace_option("enable=virtio_*,events=/tmp/ev,file=/tmp/out");
    REQUIRE(o);
    CHECK(o->patterns == std::vector<std::string>{"virtio_*"});
    CHECK(o->events_files == std::vector<std::string>{"/tmp/ev"});
    CHECK(o->file == "/tmp/out");
}

TEST_CASE("An unknown key, an empty item, a key without a value or two files are refused", "[unit][trace]")
{
    CHECK_FALSE(parse_trace_option("backend=log"));
    CHECK_FALSE(parse_trace_option("virtio_*,"));
    CHECK_FALSE(parse_trace_option("file="));
    CHECK_FALSE(parse_trace_option("file=a,file=b"));
    CHECK(parse_trace_option("backend=log").error().find("unknown trace option 'backend'") != std::string::npos);
}

TEST_CASE("An events file: a pattern per line, comments and blank lines skipped, '-' disables", "[unit][trace]")
{
    const auto lines = parse_events_file("# QEMU's example\nvirtio_iommu_*\n\n  -virtio_iommu_get_config \r\n");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].pattern == "virtio_iommu_*");
    CHECK_FALSE(lines[0].disable);
    CHECK(lines[1].pattern == "virtio_iommu_get_config");
    CHECK(lines[1].disable);
}
