// The request-script language: every word, and a clear error naming the line for every mistake.
#include <catch2/catch.hpp>

#include <linux/virtio_iommu.h>

#include "system/replay/script.h"

using namespace viommu::system::replay;

namespace {
std::string error_of(std::string_view text)
{
    auto r = parse_script(text);
    REQUIRE_FALSE(r);
    return std::to_string(r.error().line) + ": " + r.error().message;
}
} // namespace

TEST_CASE("a script parses every word with decimal and hex numbers", "[unit][replay]")
{
    const auto steps = parse_script("# comment\n\nattach 1 0x8\nattach 2 8 bypass\ndetach 1 8\n"
                                    "map 1 0x1000 0x1fff 0xa000 rw\nmap 1 0 4095 0 -\nunmap 1 0 0xfff\nprobe 8\n"
                                    "raw 0100 in=8\ndma 8 0x1000 w 4096\nbypass 1\nreset\n");
    REQUIRE(steps);
    REQUIRE(steps->size() == 11);
    CHECK((*steps)[0].line == 3);
    const auto& a = std::get<AttachOp>((*steps)[0].op);
    CHECK((a.domain == 1 && a.endpoint == 8 && !a.bypass));
    CHECK(std::get<AttachOp>((*steps)[1].op).bypass);
    const auto& m = std::get<MapOp>((*steps)[3].op);
    CHECK(m.flags == (VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE));
    CHECK(m.phys_start == 0xa000);
    CHECK(std::get<MapOp>((*steps)[4].op).flags == 0);
    const auto& raw = std::get<RawOp>((*steps)[7].op);
    CHECK(raw.readable == std::vector<uint8_t>{1, 0});
    CHECK(raw.writable == 8);
    const auto& dma = std::get<DmaOp>((*steps)[8].op);
    CHECK((dma.write && dma.len == 4096));
    CHECK(std::get<BypassOp>((*steps)[9].op).value == 1);
    CHECK(op_name((*steps)[10].op) == "reset");
}

TEST_CASE("comments may follow a request on its line", "[unit][replay]")
{
    const auto steps = parse_script("probe 8   # what does endpoint 8 have?\n");
    REQUIRE(steps);
    CHECK(std::get<ProbeOp>((*steps)[0].op).endpoint == 8);
}

TEST_CASE("an unknown word is an error naming its line", "[unit][replay]")
{
    CHECK(error_of("attach 1 8\n# x\nfrob 1\n") == "3: unknown word 'frob'");
}

TEST_CASE("a bad number is an error naming its line", "[unit][replay]")
{
    CHECK(error_of("attach 1 0x8g\n") == "1: bad endpoint: '0x8g' is not a number");
    CHECK(error_of("attach 0x100000000 8\n") == "1: bad domain: '0x100000000' is larger than 0xffffffff");
    CHECK(error_of("map 1 0x10000000000000000 0 0 r\n") ==
          "1: bad virt_start: '0x10000000000000000' does not fit in 64 bits");
    CHECK(error_of("map 1 -1 0 0 r\n") == "1: bad virt_start: '-1' is not a number");
}

TEST_CASE("a wrong number of arguments says what the word takes", "[unit][replay]")
{
    CHECK(error_of("map 1 0 0xfff 0\n") == "1: 'map' takes DOMAIN VIRT_START VIRT_END PHYS_START FLAGS");
    CHECK(error_of("reset now\n") == "1: 'reset' takes no arguments");
    CHECK(error_of("attach 1 8 passthrough\n") == "1: 'attach' takes 'bypass' as its third word, not 'passthrough'");
}

TEST_CASE("bad flags, hex, directions and lengths are refused", "[unit][replay]")
{
    CHECK(error_of("map 1 0 0xfff 0 rx\n") == "1: bad flags 'rx': use any of r, w, m once each, or - for none");
    CHECK(error_of("map 1 0 0xfff 0 rr\n") == "1: bad flags 'rr': use any of r, w, m once each, or - for none");
    CHECK(error_of("raw 010\n") == "1: bad hex '010': an odd number of digits");
    CHECK(error_of("raw 01zz\n") == "1: bad hex '01zz': 'zz' is not a hex byte");
    CHECK(error_of("raw 01 out=4\n") == "1: 'raw' takes in=N as its second word, not 'out=4'");
    CHECK(error_of("dma 8 0x1000 x\n") == "1: 'dma' takes r or w, not 'x'");
    CHECK(error_of("dma 8 0x1000 r 0\n") == "1: bad length: a DMA access is at least one byte");
    CHECK(error_of("bypass 2\n") == "1: 'bypass' takes 0 or 1, not '2'");
}

TEST_CASE("a DMA access that wraps past 2^64 is refused", "[unit][replay]")
{
    CHECK(error_of("dma 8 0xfffffffffffff000 r 0x1001\n") ==
          "1: bad length: 0x1001 bytes from 0xfffffffffffff000 wrap past 2^64");
    // The last byte of the address space is one access.
    CHECK(parse_script("dma 8 0xfffffffffffff000 r 0x1000\n"));
}

TEST_CASE("an empty script has no steps", "[unit][replay]")
{
    const auto steps = parse_script("");
    REQUIRE(steps);
    CHECK(steps->empty());
}
