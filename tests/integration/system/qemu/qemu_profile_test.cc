// QEMU 7.2's own answers where its virtio-iommu departs from the virtio spec: what the qemu-7.2 device
// profile (hw/virtio-iommu/behaviour.h) reproduces, checked on the QEMU installed here, one QEMU per
// TEST_CASE. The conformance tests (tests/conformance/virtio-iommu/qemu_profile_test.cc) show our
// device giving the same answers under that profile.
#include <catch2/catch.hpp>

#include <linux/virtio_iommu.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "tests/integration/system/qemu/qemu_guest.h"
#include "virtio/feature_bits.h"

using namespace viommu;
using namespace viommu::system::qemu;
using namespace viommu::system::qemu::testing;

namespace {

// Two endpoints for the IOMMU to manage: 00:03.0 and 00:04.0.
constexpr uint32_t kEndpointA = 3 << 3;
constexpr uint32_t kEndpointB = 4 << 3;

QemuConfig two_endpoint_machine()
{
    QemuConfig config = viommu_machine();
    config.devices.push_back("virtio-rng-pci,addr=04.0");
    return config;
}

struct TwoEndpointGuest : QemuGuest {
    TwoEndpointGuest() : QemuGuest(two_endpoint_machine()) { bring_up(); }
};

req::Map map(uint32_t domain, uint64_t first, uint64_t last, uint64_t phys = 0x200000)
{
    return {.domain = domain, .virt_start = first, .virt_end = last, .phys_start = phys, .flags = VIRTIO_IOMMU_MAP_F_READ};
}

} // namespace

TEST_CASE("QEMU 7.2 answers UNSUPP to an unknown request type and gives up on a request without room for the tail",
          "[integration][qemu][profile]")
{
    TwoEndpointGuest g;
    const uint8_t unknown[8] = {0x7f};
    const auto answer = g.exchange(unknown, 4);
    REQUIRE(answer.used_len == 4u);
    CHECK(answer.written[0] == VIRTIO_IOMMU_S_UNSUPP);

    const auto attach = req::encode(req::Attach{.domain = 1, .endpoint = kEndpointA});
    const auto no_tail = g.exchange(attach.readable(), 2);
    CHECK_FALSE(no_tail.used_len);
    CHECK((g.driver.status() & virtio::status::kNeedsReset) != 0);
}

TEST_CASE("QEMU 7.2's ATTACH and DETACH", "[integration][qemu][profile]")
{
    TwoEndpointGuest g;
    SECTION("ATTACH's reserved bytes are not checked")
    {
        auto attach = req::encode(req::Attach{.domain = 1, .endpoint = kEndpointA});
        attach.bytes[offsetof(virtio_iommu_req_attach, reserved)] = 1;
        CHECK(g.send(attach) == VIRTIO_IOMMU_S_OK);
    }
    SECTION("DETACH of an endpoint never attached is NOENT, of one no longer attached INVAL")
    {
        CHECK(g.send(req::encode(req::Detach{.domain = 1, .endpoint = kEndpointB})) == VIRTIO_IOMMU_S_NOENT);
        REQUIRE(g.send(req::encode(req::Attach{.domain = 1, .endpoint = kEndpointB})) == VIRTIO_IOMMU_S_OK);
        REQUIRE(g.send(req::encode(req::Detach{.domain = 1, .endpoint = kEndpointB})) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(req::Detach{.domain = 1, .endpoint = kEndpointB})) == VIRTIO_IOMMU_S_INVAL);
    }
    SECTION("a rejected ATTACH has already detached the endpoint and destroyed its old domain")
    {
        REQUIRE(g.send(req::encode(req::Attach{.domain = 1, .endpoint = kEndpointA})) == VIRTIO_IOMMU_S_OK);
        REQUIRE(g.send(req::encode(req::Attach{.domain = 2, .endpoint = kEndpointB, .flags = VIRTIO_IOMMU_ATTACH_F_BYPASS})) ==
                VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(req::Attach{.domain = 2, .endpoint = kEndpointA})) == VIRTIO_IOMMU_S_INVAL);
        CHECK(g.send(req::encode(map(1, 0x1000, 0x1fff))) == VIRTIO_IOMMU_S_NOENT);
        CHECK(g.send(req::encode(req::Detach{.domain = 1, .endpoint = kEndpointA})) == VIRTIO_IOMMU_S_INVAL);
    }
    SECTION("ATTACH to the current domain recreates a domain the endpoint is alone in")
    {
        REQUIRE(g.send(req::encode(req::Attach{.domain = 1, .endpoint = kEndpointA})) == VIRTIO_IOMMU_S_OK);
        REQUIRE(g.send(req::encode(map(1, 0x1000, 0x1fff))) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(req::Attach{.domain = 1, .endpoint = kEndpointA})) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(map(1, 0x1000, 0x1fff))) == VIRTIO_IOMMU_S_OK); // the old mapping is gone
    }
    CHECK_FALSE(g.qemu->qtest().failure());
}

TEST_CASE("QEMU 7.2's MAP and UNMAP", "[integration][qemu][profile]")
{
    TwoEndpointGuest g;
    REQUIRE(g.send(req::encode(req::Attach{.domain = 1, .endpoint = kEndpointA})) == VIRTIO_IOMMU_S_OK);
    SECTION("MAP accepts what the spec refuses, but not an unknown flag")
    {
        CHECK(g.send(req::encode(map(1, 0x1001, 0x1fff))) == VIRTIO_IOMMU_S_OK);          // not aligned
        CHECK(g.send(req::encode(map(1, 0x9000, 0x8fff))) == VIRTIO_IOMMU_S_OK);          // virt_end < virt_start
        CHECK(g.send(req::encode(map(1, 0x10000, 0x1ffff, ~uint64_t{0xfff}))) == VIRTIO_IOMMU_S_OK); // phys wraps
        CHECK(g.send(req::encode(map(1, 0xfee00000, 0xfee00fff))) == VIRTIO_IOMMU_S_OK); // the MSI window
        auto unknown_flag = map(1, 0x40000, 0x40fff);
        unknown_flag.flags |= 0x8;
        CHECK(g.send(req::encode(unknown_flag)) == VIRTIO_IOMMU_S_INVAL);
    }
    SECTION("UNMAP that would split a mapping has removed the mappings it met first")
    {
        REQUIRE(g.send(req::encode(map(1, 0x0, 0xfff))) == VIRTIO_IOMMU_S_OK);
        REQUIRE(g.send(req::encode(map(1, 0x1000, 0x2fff))) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(req::Unmap{.domain = 1, .virt_start = 0, .virt_end = 0x1fff})) == VIRTIO_IOMMU_S_RANGE);
        CHECK(g.send(req::encode(map(1, 0x0, 0xfff))) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(map(1, 0x1000, 0x1fff))) == VIRTIO_IOMMU_S_INVAL);
    }
    SECTION("UNMAP with virt_end below virt_start is RANGE inside a mapping and OK elsewhere")
    {
        REQUIRE(g.send(req::encode(map(1, 0x10000, 0x1ffff))) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(req::Unmap{.domain = 1, .virt_start = 0x18000, .virt_end = 0x17fff})) == VIRTIO_IOMMU_S_RANGE);
        CHECK(g.send(req::encode(req::Unmap{.domain = 1, .virt_start = 0x28000, .virt_end = 0x27fff})) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(map(1, 0x10000, 0x1ffff))) == VIRTIO_IOMMU_S_INVAL); // still mapped
    }
    SECTION("MAP with virt_end below virt_start inside a mapping is INVAL")
    {
        REQUIRE(g.send(req::encode(map(1, 0x10000, 0x1ffff))) == VIRTIO_IOMMU_S_OK);
        CHECK(g.send(req::encode(map(1, 0x18000, 0x17fff))) == VIRTIO_IOMMU_S_INVAL);
    }
    CHECK_FALSE(g.qemu->qtest().failure());
}

TEST_CASE("QEMU 7.2 aborts on a PROBE whose buffer is smaller than probe_size", "[integration][qemu][profile]")
{
    // virtio_iommu_handle_command() asserts that the whole probe_size + tail reply was copied out; later
    // QEMU answers DEVERR instead. Either way the driver gets nothing back.
    TwoEndpointGuest g;
    const auto probe = req::encode(req::Probe{.endpoint = kEndpointA, .probe_size = 512});
    const auto answer = g.exchange(probe.readable(), 64);
    CHECK_FALSE(answer.used_len);
    CHECK_THAT(g.qemu->diagnostics(std::chrono::seconds(5)), Catch::Contains("Assertion `sz == output_size' failed"));
}
