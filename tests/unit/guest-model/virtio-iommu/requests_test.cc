// The guest's request codec against virtio v1.2 §5.13.6.3 to §5.13.6.7: each request's bytes at the
// spec's offsets, little-endian, reserved bytes zero, and the size of its writable part.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "guest-model/virtio-iommu/requests.h"

using namespace viommu::guest;
using namespace viommu::guest::virtio_iommu;




namespace {

// `value` as `width` little-endian bytes: what the spec's le32/le64 fields hold (§1.4).
std::vector<uint8_t> le(uint64_t value, std::size_t width)
{
    std::vector<uint8_t> out;
    for (std::size_t i = 0; i < width; ++i)
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
    return out;
}

std::vector<uint8_t> field(const req::Encoded& e, std::size_t offset, std::size_t width)
{
    const auto r = e.readable();
    return {r.begin() + offset, r.begin() + offset + width};
}

bool zero(const req::Encoded& e, std::size_t from, std::size_t to)
{
    const auto r = e.readable();
    for (std::size_t i = from; i < to; ++i)
        if (r[i] != 0)
            return false;
    return true;
}

} // namespace

TEST_CASE("ATTACH is type 1, domain at 4, endpoint at 8, flags at 12, 4 reserved bytes, then a 4-byte tail",
          "[unit][guest-viommu][5.13.6.3]")
{
    const auto e = req::encode(req::Attach{.domain = 0x11223344, .endpoint = 0x55667788, .flags = 0x01020304});
    REQUIRE(e.readable_len == 20);
    CHECK(e.readable()[0] == 1);
    CHECK(zero(e, 1, 4));
    CHECK(field(e, 4, 4) == le(0x11223344, 4));
    CHECK(field(e, 8, 4) == le(0x55667788, 4));
    CHECK(field(e, 12, 4) == le(0x01020304, 4));
    CHECK(zero(e, 16, 20));
    CHECK(e.writable_len == 4);
    CHECK(e.tail_offset() == 0);
}

TEST_CASE("DETACH is type 2, domain at 4, endpoint at 8, 8 reserved bytes, then a 4-byte tail",
          "[unit][guest-viommu][5.13.6.4]")
{
    const auto e = req::encode(req::Detach{.domain = 0xa1b2c3d4, .endpoint = 0x0badf00d});
    REQUIRE(e.readable_len == 20);
    CHECK(e.readable()[0] == 2);
    CHECK(zero(e, 1, 4));
    CHECK(field(e, 4, 4) == le(0xa1b2c3d4, 4));
    CHECK(field(e, 8, 4) == le(0x0badf00d, 4));
    CHECK(zero(e, 12, 20));
    CHECK(e.writable_len == 4);
}

TEST_CASE("MAP is type 3, domain at 4, virt_start at 8, virt_end at 16, phys_start at 24, flags at 32, then a tail",
          "[unit][guest-viommu][5.13.6.5]")
{
    const auto e = req::encode(req::Map{.domain = 7,
                                        .virt_start = 0x0102030405060708,
                                        .virt_end = 0x1112131415161718,
                                        .phys_start = 0x2122232425262728,
                                        .flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_MMIO});
    REQUIRE(e.readable_len == 36);
    CHECK(e.readable()[0] == 3);
    CHECK(zero(e, 1, 4));
    CHECK(field(e, 4, 4) == le(7, 4));
    CHECK(field(e, 8, 8) == le(0x0102030405060708, 8));
    CHECK(field(e, 16, 8) == le(0x1112131415161718, 8));
    CHECK(field(e, 24, 8) == le(0x2122232425262728, 8));
    CHECK(field(e, 32, 4) == le(VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_MMIO, 4));
    CHECK(e.writable_len == 4);
}

TEST_CASE("UNMAP is type 4, domain at 4, virt_start at 8, virt_end at 16, 4 reserved bytes, then a tail",
          "[unit][guest-viommu][5.13.6.6]")
{
    const auto e = req::encode(req::Unmap{.domain = 0xfffffffe, .virt_start = 0x1000, .virt_end = UINT64_MAX});
    REQUIRE(e.readable_len == 28);
    CHECK(e.readable()[0] == 4);
    CHECK(zero(e, 1, 4));
    CHECK(field(e, 4, 4) == le(0xfffffffe, 4));
    CHECK(field(e, 8, 8) == le(0x1000, 8));
    CHECK(field(e, 16, 8) == le(UINT64_MAX, 8));
    CHECK(zero(e, 24, 28));
    CHECK(e.writable_len == 4);
}

TEST_CASE("PROBE is type 5, endpoint at 4, 64 reserved bytes; probe_size bytes of properties come before the tail",
          "[unit][guest-viommu][5.13.6.7]")
{
    const auto e = req::encode(req::Probe{.endpoint = 0xcafe0001, .probe_size = 512});
    REQUIRE(e.readable_len == 72);
    CHECK(e.readable()[0] == 5);
    CHECK(zero(e, 1, 4));
    CHECK(field(e, 4, 4) == le(0xcafe0001, 4));
    CHECK(zero(e, 8, 72));
    CHECK(e.writable_len == 512 + 4);
    CHECK(e.tail_offset() == 512);
}

TEST_CASE("the tail status is read only when the device reported the whole tail written", "[unit][guest-viommu][5.13.6.2]")
{
    const std::vector<uint8_t> written{0xee, 0, 0, 0, VIRTIO_IOMMU_S_NOENT, 0, 0, 0};
    CHECK(req::tail_status(written, 8, 4) == VIRTIO_IOMMU_S_NOENT);
    CHECK(req::tail_status(written, 7, 4) == std::nullopt);   // the device wrote less than the tail
    CHECK(req::tail_status(written, 100, 6) == std::nullopt); // it claims more than the buffer holds
    CHECK(req::tail_status(written, 8, 0) == 0xee);
}

TEST_CASE("a whole writable part has its tail status in its last four bytes", "[unit][guest-viommu][5.13.6.2]")
{
    const std::vector<uint8_t> probe_reply{9, 9, 9, 9, 9, 9, VIRTIO_IOMMU_S_RANGE, 0, 0, 0};
    CHECK(req::tail_status(probe_reply) == VIRTIO_IOMMU_S_RANGE);
    CHECK(req::tail_status(std::vector<uint8_t>{0, 0, 0}) == std::nullopt);
}
