// The Catch2 entry point for every test executable. Devices log guest errors with spdlog; tests check
// those outcomes through state, so the log stays quiet unless VIOMMU_TEST_LOG names a level.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

#include <spdlog/spdlog.h>

int main(int argc, char** argv)
{
    const char* level = std::getenv("VIOMMU_TEST_LOG");
    spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
    return Catch::Session().run(argc, argv);
}
