#include <catch2/catch.hpp>

#include <string>

#include "base/pci_address.h"

using namespace viommu;

template <>
struct Catch::StringMaker<PciAddress> {
    static std::string convert(const PciAddress& a) { return a.to_string(); }
};

namespace {

PciAddress parsed(std::string_view text)
{
    auto a = PciAddress::parse(text);
    INFO(text);
    REQUIRE(a);
    return *a;
}

std::string refusal(std::string_view text)
{
    auto a = PciAddress::parse(text);
    INFO(text);
    REQUIRE_FALSE(a);
    return a.error();
}

} // namespace

TEST_CASE("an address is written as Linux names the device: DDDD:BB:SS.F in lower-case hex", "[unit][base]")
{
    CHECK(PciAddress(0, 0x3b, 0x01).to_string() == "0000:3b:00.1");
    CHECK(PciAddress(0xabcd, 0xff, 0xff).to_string() == "abcd:ff:1f.7");
    CHECK(PciAddress(0, 0, 0).to_string() == "0000:00:00.0");
}

TEST_CASE("the short form leaves the domain out: BB:SS.F", "[unit][base]")
{
    CHECK(PciAddress(0, 0, 5 << 3).to_short_string() == "00:05.0");
    CHECK(PciAddress(0x1234, 0xa0, 0x1f << 3 | 2).to_short_string() == "a0:1f.2");
}

TEST_CASE("devfn holds the slot in its top 5 bits and the function in its low 3, as PCI_DEVFN()", "[unit][base]")
{
    const PciAddress a(0, 1, 0xfa);
    CHECK(a.slot() == 0x1f);
    CHECK(a.function() == 2);
    CHECK(a.devfn() == 0xfa);
}

TEST_CASE("DDDD:BB:SS.F parses to its domain, bus, slot and function", "[unit][base]")
{
    const PciAddress a = parsed("1a2b:3c:1d.6");
    CHECK(a.domain() == 0x1a2b);
    CHECK(a.bus() == 0x3c);
    CHECK(a.slot() == 0x1d);
    CHECK(a.function() == 6);
}

TEST_CASE("BB:SS.F parses as the same address in domain 0", "[unit][base]")
{
    CHECK(parsed("3b:00.1") == parsed("0000:3b:00.1"));
    CHECK(parsed("3b:00.1").domain() == 0);
}

TEST_CASE("hex digits parse in either case", "[unit][base]")
{
    CHECK(parsed("ABCD:EF:1F.7") == parsed("abcd:ef:1f.7"));
    CHECK(parsed("aBcD:eF:1f.7").to_string() == "abcd:ef:1f.7");
}

TEST_CASE("what is written parses back to the same address, for every slot and function", "[unit][base]")
{
    for (unsigned devfn = 0; devfn < 256; ++devfn) {
        const PciAddress a(0xbeef, 0x42, static_cast<uint8_t>(devfn));
        CHECK(parsed(a.to_string()) == a);
        CHECK(parsed(a.to_short_string()) == PciAddress(0, 0x42, static_cast<uint8_t>(devfn)));
    }
}

TEST_CASE("a slot above 0x1f or a function above 7 is refused, naming the field", "[unit][base]")
{
    CHECK(refusal("0000:00:20.0") ==
          "'0000:00:20.0' is not a PCI address: PCI slot 0x20 is out of range (at most 0x1f) (DDDD:BB:SS.F, or "
          "BB:SS.F in domain 0, in hex)");
    CHECK_THAT(refusal("00:ff.0"), Catch::Contains("slot 0xff"));
    CHECK_THAT(refusal("00:00.8"), Catch::Contains("PCI function 0x8 is out of range (at most 0x7)"));
    CHECK_THAT(refusal("0000:00:00.f"), Catch::Contains("function 0xf"));
}

TEST_CASE("text of another length is refused: the fields have the widths Linux prints", "[unit][base]")
{
    CHECK(refusal("") == "'' is not a PCI address: 0 characters, not 12 or 7 (DDDD:BB:SS.F, or BB:SS.F in domain 0, "
                         "in hex)");
    for (const char* text : {"3b:0.1", "0:3b:00.1", "00000:3b:00.1", "3b:00.10", " 3b:00.1", "3b:00.1\n", "00.1"})
        CHECK_THAT(refusal(text), Catch::Contains("characters, not 12 or 7"));
}

TEST_CASE("other separators are refused", "[unit][base]")
{
    for (const char* text : {"3b.00.1", "3b:00:1", "0000.3b:00.1", "0000:3b.00.1", "0000:3b:00:1", "3b_00_1"})
        CHECK_THAT(refusal(text), Catch::Contains("the separators are not ':', ':' and '.'"));
}

TEST_CASE("a field that is not all hex digits is refused", "[unit][base]")
{
    for (const char* text : {"3g:00.1", "x3:00.1", "3b:+1.1", "3b:00.-", "000g:3b:00.1", "3b: 0.1"})
        CHECK_THAT(refusal(text), Catch::Contains("a field is not all hex digits"));
}

TEST_CASE("fields are checked against their ranges: domain, bus, slot and function", "[unit][base]")
{
    const auto highest = PciAddress::from_fields(0xffff, 0xff, 0x1f, 7);
    REQUIRE(highest);
    CHECK(*highest == PciAddress(0xffff, 0xff, 0xff));
    CHECK(PciAddress::from_fields(0x10000, 0, 0, 0).error() == "PCI domain 0x10000 is out of range (at most 0xffff)");
    CHECK(PciAddress::from_fields(0, 0x100, 0, 0).error() == "PCI bus 0x100 is out of range (at most 0xff)");
    CHECK(PciAddress::from_fields(0, 0, 0x20, 0).error() == "PCI slot 0x20 is out of range (at most 0x1f)");
    CHECK(PciAddress::from_fields(0, 0, 0, 8).error() == "PCI function 0x8 is out of range (at most 0x7)");
    CHECK_FALSE(PciAddress::from_fields(UINT64_MAX, 0, 0, 0));
}
