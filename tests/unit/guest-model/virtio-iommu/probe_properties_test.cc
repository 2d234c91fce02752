// PROBE property lists as the guest reads them (virtio v1.2 §5.13.6.7, §5.13.6.8): the device is not
// trusted, so each rule about lengths, the NONE terminator and unknown types is checked here.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "guest-model/virtio-iommu/probe_properties.h"

using namespace viommu::guest;
using namespace viommu::guest::virtio_iommu;




namespace {

void put(std::vector<uint8_t>& out, uint64_t value, std::size_t width)
{
    for (std::size_t i = 0; i < width; ++i)
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void header(std::vector<uint8_t>& out, uint16_t type, uint16_t length)
{
    put(out, type, 2);
    put(out, length, 2);
}

// A RESV_MEM property as §5.13.6.8.1 lays it out: header, subtype, 3 reserved bytes, start, end.
void resv_mem(std::vector<uint8_t>& out, uint8_t subtype, uint64_t start, uint64_t end)
{
    header(out, VIRTIO_IOMMU_PROBE_T_RESV_MEM, 20);
    put(out, subtype, 1);
    put(out, 0, 3);
    put(out, start, 8);
    put(out, end, 8);
}

std::vector<uint8_t> padded(std::vector<uint8_t> list, std::size_t probe_size)
{
    list.resize(probe_size, 0);
    return list;
}

} // namespace

TEST_CASE("a RESV_MEM property reads as subtype, start and end, little-endian", "[unit][guest-viommu][5.13.6.8.1]")
{
    std::vector<uint8_t> list;
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0xfee00000, 0xfeefffff);
    const auto parsed = probe::parse(padded(list, 64));
    REQUIRE(parsed.list.size() == 1);
    CHECK(std::get<probe::ResvMem>(parsed.list[0]) ==
          probe::ResvMem{static_cast<uint8_t>(probe::ResvMemSubtype::kMsi), 0xfee00000, 0xfeefffff});
}

TEST_CASE("properties follow one another with no gap, each after the previous one's length",
          "[unit][guest-viommu][5.13.6.7.2]")
{
    std::vector<uint8_t> list;
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x1000, 0x1fff);
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_RESERVED, 0x8000, 0x8fff);
    const auto parsed = probe::parse(padded(list, 128));
    REQUIRE(parsed.list.size() == 2);
    CHECK(std::get<probe::ResvMem>(parsed.list[1]).start == 0x8000);
    CHECK(std::get<probe::ResvMem>(parsed.list[1]).subtype == VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
}

TEST_CASE("the zero padding after the last property reads as NONE and ends the list", "[unit][guest-viommu][5.13.6.7.2]")
{
    std::vector<uint8_t> list;
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x1000, 0x1fff);
    list = padded(list, 64);
    // A property after the terminator is not part of the list.
    std::vector<uint8_t> after;
    resv_mem(after, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x5000, 0x5fff);
    list.insert(list.end(), after.begin(), after.end());
    const auto parsed = probe::parse(list);
    CHECK(parsed.list.size() == 1);
    CHECK(parsed.end == probe::ListEnd::kNone);
}

TEST_CASE("a list that fills probe_size exactly ends at the buffer's end", "[unit][guest-viommu][5.13.6.7.1]")
{
    std::vector<uint8_t> list;
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x1000, 0x1fff);
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x3000, 0x3fff);
    list.push_back(0xff); // fewer bytes than a header are left: not a property
    const auto parsed = probe::parse(list);
    CHECK(parsed.list.size() == 2);
    CHECK(parsed.end == probe::ListEnd::kBufferEnd);
}

TEST_CASE("a property whose length runs past probe_size is dropped with the rest of the list",
          "[unit][guest-viommu][5.13.6.7.1]")
{
    std::vector<uint8_t> list;
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x1000, 0x1fff);
    header(list, VIRTIO_IOMMU_PROBE_T_RESV_MEM, 0xffff);
    const auto parsed = probe::parse(padded(list, 64));
    CHECK(parsed.list.size() == 1);
    CHECK(parsed.end == probe::ListEnd::kOverlong);
}

TEST_CASE("an overrunning property's value is cut at probe_size, never read beyond it", "[unit][guest-viommu][5.13.6.7.1]")
{
    std::vector<uint8_t> list;
    header(list, VIRTIO_IOMMU_PROBE_T_RESV_MEM, 20);
    put(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 1);
    put(list, 0, 3);
    put(list, 0x4000, 8); // start; the end would be the next 8 bytes, outside the list
    probe::Walker walker(list);
    const auto p = walker.next();
    REQUIRE(p);
    CHECK(p->overruns());
    CHECK(p->value.size() == 12);
    const auto fields = probe::read_resv_mem(p->value);
    CHECK(fields.start == 0x4000);
    CHECK(fields.end == 0); // absent bytes read as zero
    CHECK_FALSE(walker.next());
}

TEST_CASE("a RESV_MEM property shorter than its layout is kept unparsed", "[unit][guest-viommu][5.13.6.8.1]")
{
    std::vector<uint8_t> list;
    header(list, VIRTIO_IOMMU_PROBE_T_RESV_MEM, 12);
    put(list, 0x0101010101010101, 8);
    put(list, 0x01010101, 4);
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_RESERVED, 0x2000, 0x2fff);
    const auto parsed = probe::parse(padded(list, 64));
    REQUIRE(parsed.list.size() == 2);
    CHECK(std::get<probe::Unparsed>(parsed.list[0]) == probe::Unparsed{VIRTIO_IOMMU_PROBE_T_RESV_MEM, 12});
    CHECK(std::get<probe::ResvMem>(parsed.list[1]).start == 0x2000); // the next one is found by the length
    CHECK_FALSE(probe::resv_mem_length_ok(19));
    CHECK(probe::resv_mem_length_ok(20));
}

TEST_CASE("a longer RESV_MEM property is read by its layout and skipped by its length", "[unit][guest-viommu][5.13.6.8.1]")
{
    std::vector<uint8_t> list;
    header(list, VIRTIO_IOMMU_PROBE_T_RESV_MEM, 28);
    put(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 1);
    put(list, 0, 3);
    put(list, 0x1000, 8);
    put(list, 0x1fff, 8);
    put(list, UINT64_MAX, 8); // extra bytes this driver does not know
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_RESERVED, 0x2000, 0x2fff);
    const auto parsed = probe::parse(padded(list, 128));
    REQUIRE(parsed.list.size() == 2);
    CHECK(std::get<probe::ResvMem>(parsed.list[0]).end == 0x1fff);
    CHECK(std::get<probe::ResvMem>(parsed.list[1]).start == 0x2000);
}

TEST_CASE("a property of unknown type is skipped by its length and the list goes on", "[unit][guest-viommu][5.13.6.7.1]")
{
    std::vector<uint8_t> list;
    header(list, 0x0abc, 6);
    put(list, 0xffffffffffff, 6);
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x1000, 0x1fff);
    const auto parsed = probe::parse(padded(list, 64));
    REQUIRE(parsed.list.size() == 2);
    CHECK(std::get<probe::Unparsed>(parsed.list[0]) == probe::Unparsed{0x0abc, 6});
    CHECK(std::holds_alternative<probe::ResvMem>(parsed.list[1]));
}

TEST_CASE("the reserved bits 12 to 15 of a property's type are masked", "[unit][guest-viommu][5.13.6.7]")
{
    std::vector<uint8_t> list;
    header(list, 0xf000 | VIRTIO_IOMMU_PROBE_T_RESV_MEM, 20);
    put(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 1);
    put(list, 0, 3);
    put(list, 0x1000, 8);
    put(list, 0x1fff, 8);
    header(list, 0xf000 | VIRTIO_IOMMU_PROBE_T_NONE, 0); // NONE with reserved bits set still ends the list
    resv_mem(list, VIRTIO_IOMMU_RESV_MEM_T_MSI, 0x5000, 0x5fff);
    const auto parsed = probe::parse(list);
    REQUIRE(parsed.list.size() == 1);
    CHECK(std::holds_alternative<probe::ResvMem>(parsed.list[0]));
    CHECK(parsed.end == probe::ListEnd::kNone);
}

TEST_CASE("a RESV_MEM subtype the driver does not know is kept as written", "[unit][guest-viommu][5.13.6.8.1]")
{
    std::vector<uint8_t> list;
    resv_mem(list, 7, 0x1000, 0x1fff);
    const auto parsed = probe::parse(padded(list, 64));
    REQUIRE(parsed.list.size() == 1);
    CHECK(std::get<probe::ResvMem>(parsed.list[0]).subtype == 7);
}

TEST_CASE("an empty or all-zero property buffer is an empty list", "[unit][guest-viommu][5.13.6.7]")
{
    CHECK(probe::parse({}).list.empty());
    CHECK(probe::parse({}).end == probe::ListEnd::kBufferEnd);
    const auto zeroes = probe::parse(std::vector<uint8_t>(512, 0));
    CHECK(zeroes.list.empty());
    CHECK(zeroes.end == probe::ListEnd::kNone);
}
