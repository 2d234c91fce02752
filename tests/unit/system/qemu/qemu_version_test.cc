// The QEMU release a binary reports: what the peer's device behaviour is looked up by.
#include <catch2/catch.hpp>

#include "system/qemu/qemu_version.h"

using namespace viommu::system::qemu;

TEST_CASE("a QEMU version line gives major, minor and micro", "[unit][qemu]")
{
    const auto v = parse_qemu_version("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)\n"
                                      "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n");
    REQUIRE(v);
    CHECK((v->major == 7 && v->minor == 2 && v->micro == 22));
    CHECK(v->line == "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)");
    const auto two = parse_qemu_version("QEMU emulator version 10.0\n");
    REQUIRE(two);
    CHECK((two->major == 10 && two->minor == 0 && two->micro == 0));
}

TEST_CASE("output that is not QEMU's version line is refused, quoted", "[unit][qemu]")
{
    const auto v = parse_qemu_version("bash: qemu: command not found\n");
    REQUIRE_FALSE(v);
    CHECK(v.error() == "not a QEMU version line: 'bash: qemu: command not found'");
    CHECK_FALSE(parse_qemu_version("QEMU emulator version x.y\n"));
    CHECK_FALSE(parse_qemu_version(""));
}

TEST_CASE("the installed QEMU reports its release", "[unit][qemu]")
{
    const auto v = qemu_version("qemu-system-x86_64");
    INFO((v ? v->line : v.error()));
    REQUIRE(v);
    CHECK(v->major >= 7);
    CHECK_FALSE(qemu_version("/nonexistent/qemu"));
}
