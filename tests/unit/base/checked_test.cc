#include <catch2/catch.hpp>

#include <cstdint>

#include "base/checked.h"
#include "base/expected.h"

using namespace viommu;

TEST_CASE("checked arithmetic reports overflow instead of wrapping", "[unit][base]")
{
    CHECK(checked_add<uint64_t>(UINT64_MAX, 1) == std::nullopt);
    CHECK(checked_add<uint64_t>(UINT64_MAX - 1, 1) == UINT64_MAX);
    CHECK(checked_sub<uint32_t>(0, 1) == std::nullopt);
    CHECK(checked_mul<uint64_t>(uint64_t{1} << 32, uint64_t{1} << 32) == std::nullopt);
    CHECK(checked_mul<uint16_t>(256, 255) == 65280);
}

TEST_CASE("last_byte refuses empty and wrapping ranges", "[unit][base]")
{
    CHECK(last_byte(0x1000, 0) == std::nullopt);
    CHECK(last_byte(UINT64_MAX, 1) == UINT64_MAX);
    CHECK(last_byte(UINT64_MAX, 2) == std::nullopt);
    CHECK(last_byte(0, UINT64_MAX) == UINT64_MAX - 1);
}

TEST_CASE("contains checks a range against a window without overflow", "[unit][base]")
{
    CHECK(contains(0x1000, 0x1000, 0x1000, 0x1000));
    CHECK_FALSE(contains(0x1000, 0x1000, 0x1000, 0x1001));
    CHECK_FALSE(contains(0x1000, 0x1000, 0xfff, 1));
    CHECK_FALSE(contains(0x1000, 0x1000, 0x1800, UINT64_MAX));
    CHECK(contains(0, UINT64_MAX, UINT64_MAX - 1, 1));
}

TEST_CASE("Expected holds either a value or an error", "[unit][base]")
{
    Expected<int, const char*> ok = 3;
    Expected<int, const char*> bad = unexpected("no");
    REQUIRE(ok);
    CHECK(*ok == 3);
    REQUIRE_FALSE(bad);
    CHECK(std::string(bad.error()) == "no");
    Expected<void, int> fine;
    Expected<void, int> failed = unexpected(7);
    CHECK(fine.has_value());
    CHECK(failed.error() == 7);
}
