#include "tests/fuzz/finding.h"

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace viommu::fuzz {

void finding(std::string_view what)
{
    std::fprintf(stderr, "==== finding ====\n%.*s\n", static_cast<int>(what.size()), what.data());
    std::fflush(stderr);
    std::abort();
}

void quiet_logs()
{
    spdlog::set_level(spdlog::level::off);
}

} // namespace viommu::fuzz
