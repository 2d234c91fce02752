// Lines as people's files have them: blanks around, a CR left by CRLF endings.
#include <catch2/catch.hpp>

#include "base/text.h"

TEST_CASE("trim_blanks drops spaces, tabs and CRs at either end, and nothing inside", "[unit][base]")
{
    CHECK(viommu::trim_blanks("  CONFIG_X=y\t\r") == "CONFIG_X=y");
    CHECK(viommu::trim_blanks("a b") == "a b");
    CHECK(viommu::trim_blanks(" \t\r ").empty());
    CHECK(viommu::trim_blanks("\nx\n") == "\nx\n"); // a newline ends a line: not a blank within one
}
