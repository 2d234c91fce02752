// Fault reports as the guest reads them (virtio v1.2 §5.13.6.9, struct virtio_iommu_fault): reason at
// 0, flags at 4, endpoint at 8, address at 16, little-endian, 24 bytes in all.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "guest-model/virtio-iommu/fault_event.h"

using namespace viommu::guest;
using namespace viommu::guest::virtio_iommu;




namespace {

void put(std::vector<uint8_t>& out, uint64_t value, std::size_t width)
{
    for (std::size_t i = 0; i < width; ++i)
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

std::vector<uint8_t> report(uint8_t reason, uint32_t flags, uint32_t endpoint, uint64_t address)
{
    std::vector<uint8_t> out;
    put(out, reason, 1);
    put(out, 0, 3);
    put(out, flags, 4);
    put(out, endpoint, 4);
    put(out, 0, 4);
    put(out, address, 8);
    return out;
}

FaultEvent parsed(const std::vector<uint8_t>& bytes)
{
    const auto f = parse_fault_event(bytes);
    REQUIRE(f);
    return *f;
}

} // namespace

TEST_CASE("a fault report's endpoint, flags and address are read little-endian at their offsets",
          "[unit][guest-viommu][5.13.6.9]")
{
    const auto f = parsed(report(VIRTIO_IOMMU_FAULT_R_MAPPING, 0x0000000a, 0x01020304, 0x1122334455667788));
    CHECK(f.flags == 0x0000000a);
    CHECK(f.endpoint == 0x01020304);
    CHECK(f.address == 0x1122334455667788);
    CHECK(f.reserved_zero());
}

TEST_CASE("reason UNKNOWN is 0", "[unit][guest-viommu][5.13.6.9]")
{
    CHECK(parsed(report(0, 0, 1, 0)).reason == FaultReason::kUnknown);
}

TEST_CASE("reason DOMAIN is 1", "[unit][guest-viommu][5.13.6.9]")
{
    CHECK(parsed(report(1, 0, 1, 0)).reason == FaultReason::kDomain);
}

TEST_CASE("reason MAPPING is 2", "[unit][guest-viommu][5.13.6.9]")
{
    CHECK(parsed(report(2, 0, 1, 0)).reason == FaultReason::kMapping);
}

TEST_CASE("a reason the spec does not define is kept as written", "[unit][guest-viommu][5.13.6.9]")
{
    CHECK(static_cast<uint8_t>(parsed(report(0x42, 0, 1, 0)).reason) == 0x42);
}

TEST_CASE("flag READ is bit 0", "[unit][guest-viommu][5.13.6.9]")
{
    const auto f = parsed(report(2, 1u << 0, 1, 0));
    CHECK(f.read());
    CHECK_FALSE((f.write() || f.exec() || f.has_address()));
}

TEST_CASE("flag WRITE is bit 1", "[unit][guest-viommu][5.13.6.9]")
{
    const auto f = parsed(report(2, 1u << 1, 1, 0));
    CHECK(f.write());
    CHECK_FALSE((f.read() || f.exec() || f.has_address()));
}

TEST_CASE("flag EXEC is bit 2", "[unit][guest-viommu][5.13.6.9]")
{
    const auto f = parsed(report(2, 1u << 2, 1, 0));
    CHECK(f.exec());
    CHECK_FALSE((f.read() || f.write() || f.has_address()));
}

TEST_CASE("flag ADDRESS is bit 8: the address field is valid", "[unit][guest-viommu][5.13.6.9]")
{
    const auto f = parsed(report(2, 1u << 8, 1, 0xdead000));
    CHECK(f.has_address());
    CHECK_FALSE((f.read() || f.write() || f.exec()));
}

TEST_CASE("non-zero bytes after the reason are told apart from those of reserved2", "[unit][guest-viommu][5.13.6.9.2]")
{
    auto head = report(2, 0, 1, 0);
    head[2] = 1;
    CHECK_FALSE(parsed(head).head_reserved_zero());
    CHECK_FALSE(parsed(head).reserved_zero());
    auto second = report(2, 0, 1, 0);
    second[13] = 1;
    CHECK(parsed(second).head_reserved_zero());
    CHECK_FALSE(parsed(second).reserved_zero());
}

TEST_CASE("a buffer shorter than a report is not a report", "[unit][guest-viommu][5.13.6.9]")
{
    auto bytes = report(2, 0, 1, 0);
    bytes.pop_back();
    CHECK_FALSE(parse_fault_event(bytes));
}
