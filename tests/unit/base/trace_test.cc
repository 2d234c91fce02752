#include <catch2/catch.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>

#include "base/trace/trace.h"

VIOMMU_TRACE_POINT(test_trace_alpha, (unsigned a, uint64_t b), (a, b), "a={} b={:#x}")
VIOMMU_TRACE_POINT(test_trace_beta, (), (), "no arguments")

namespace {

struct CapturedTrace {
    std::ostringstream out;
    std::shared_ptr<spdlog::logger> previous = viommu::trace::sink();
    CapturedTrace()
    {
        auto logger = std::make_shared<spdlog::logger>("test-trace", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
        logger->set_pattern("%v");
        logger->set_level(spdlog::level::trace);
        viommu::trace::set_sink(logger);
    }
    ~CapturedTrace()
    {
        viommu::trace::disable_all();
        viommu::trace::set_sink(previous);
    }
};

} // namespace

TEST_CASE("a trace point is silent until a glob enables it", "[unit][trace]")
{
    CapturedTrace t;
    trace_test_trace_alpha(1, 2);
    CHECK(t.out.str().empty());
    const auto r = viommu::trace::enable("test_trace_a*");
    CHECK(r.matched == 1);
    trace_test_trace_alpha(1, 0x20);
    trace_test_trace_beta();
    CHECK(t.out.str() == "test_trace_alpha a=1 b=0x20\n");
}

TEST_CASE("a glob can enable several trace points and the list names them all", "[unit][trace]")
{
    CapturedTrace t;
    CHECK(viommu::trace::enable("test_trace_*").matched == 2);
    trace_test_trace_beta();
    CHECK(t.out.str() == "test_trace_beta no arguments\n");
    const auto names = viommu::trace::names();
    CHECK(std::find(names.begin(), names.end(), "test_trace_alpha") != names.end());
}

TEST_CASE("an exact trace point name that does not exist is reported", "[unit][trace]")
{
    CapturedTrace t;
    CHECK(viommu::trace::enable("no_such_event").unknown_exact_name);
    CHECK_FALSE(viommu::trace::enable("no_such_*").unknown_exact_name);
}

TEST_CASE("a glob with a '[' that no ']' closes is refused, and enables nothing", "[unit][trace]")
{
    CapturedTrace t;
    CHECK(viommu::trace::enable("[").malformed);
    CHECK(viommu::trace::enable("test_trace_[ab").malformed);
    CHECK(viommu::trace::enable("test_trace_[ab]lpha").matched == 1);
    CHECK_FALSE(viommu::trace::enable("test_trace_[]x]*").malformed); // a leading ']' is a member
    trace_test_trace_beta();
    CHECK(t.out.str().empty());
}

TEST_CASE("a pattern disabled after a wider one turns off only what it matches", "[unit][trace]")
{
    CapturedTrace t;
    viommu::trace::enable("test_trace_*");
    viommu::trace::disable("test_trace_beta");
    trace_test_trace_alpha(1, 0x1);
    trace_test_trace_beta();
    CHECK(t.out.str() == "test_trace_alpha a=1 b=0x1\n");
}

TEST_CASE("a thread's trace context names whose line it is, and ends with its scope", "[unit][trace]")
{
    CapturedTrace t;
    viommu::trace::enable("test_trace_beta");
    {
        const viommu::trace::ScopedContext context("guest-a");
        trace_test_trace_beta();
    }
    trace_test_trace_beta();
    CHECK(t.out.str() == "guest-a: test_trace_beta no arguments\ntest_trace_beta no arguments\n");
}
