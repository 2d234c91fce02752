// Snapshots: a faithful round trip, and every damaged stream refused with the target left as it was.
#include <catch2/catch.hpp>

#include <algorithm>

#include "base/byte_stream.h"
#include "hw/virtio-iommu/snapshot.h"
#include "tests/support/iommu_fixture.h"

using namespace viommu;
using namespace viommu::test;
using hw::virtio_iommu::Snapshot;

namespace {

// A device with some of everything: two domains (one bypass), mappings, bypass off, queues in use.
struct Populated : IommuGuest {
    explicit Populated(uint64_t mappings = 16, virtio::FeatureBits accept = ~virtio::FeatureBits{0})
        : IommuGuest(test_config(), {.accept = accept})
    {
        client.write_bypass(0);
        if (client.attach(1, 8) != VIRTIO_IOMMU_S_OK || client.attach(1, 0x10) != VIRTIO_IOMMU_S_OK ||
            client.attach(2, 0x11, VIRTIO_IOMMU_ATTACH_F_BYPASS) != VIRTIO_IOMMU_S_OK)
            throw std::runtime_error("attach failed");
        std::vector<std::vector<uint8_t>> batch;
        for (uint64_t i = 0; i < mappings; ++i) {
            const auto req = guest::virtio_iommu::req::encode(
                guest::virtio_iommu::req::Map{.domain = 1,
                                .virt_start = i * 0x2000,
                                .virt_end = i * 0x2000 + 0xfff,
                                .phys_start = 0x40000000 + i * 0x1000,
                                .flags = VIRTIO_IOMMU_MAP_F_READ | (i % 2 ? VIRTIO_IOMMU_MAP_F_WRITE : 0u)});
            batch.push_back(req.readable_vector());
            if (batch.size() == 128 || i + 1 == mappings) {
                if (!client.send_batch(batch, 4))
                    throw std::runtime_error("map failed");
                batch.clear();
            }
        }
    }
};

// A fresh device of the same properties, in a machine of its own.
struct Fresh {
    system::machine::Machine machine;
    hw::virtio_iommu::VirtioIommu& device = machine.add_device<hw::virtio_iommu::VirtioIommu>(test_config());
};

std::vector<uint8_t> refix_crc(std::vector<uint8_t> s)
{
    const uint32_t crc = crc32(std::span(s).first(s.size() - 4));
    for (int i = 0; i < 4; ++i)
        s[s.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
    return s;
}

// The record of the mapping whose phys_start is `phys` (virt_start, virt_end, phys_start, 8 bytes each,
// then flags): where its phys_start field starts. The last match, as the rings may hold the same bytes.
std::vector<uint8_t>::iterator mapping_phys_field(std::vector<uint8_t>& stream, uint64_t phys)
{
    uint8_t le[8];
    for (int i = 0; i < 8; ++i)
        le[i] = static_cast<uint8_t>(phys >> (8 * i));
    const auto at = std::find_end(stream.begin(), stream.end(), std::begin(le), std::end(le));
    REQUIRE(at != stream.end());
    return at;
}

void put_le(std::vector<uint8_t>::iterator at, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        at[i] = static_cast<uint8_t>(value >> (8 * i));
}

// Restores `stream`, its checksum made right, into a fresh device: the refusal's message, with the
// target checked untouched.
std::string refusal_of(const std::vector<uint8_t>& stream)
{
    Fresh target;
    const auto before = Snapshot::save(target.device);
    const auto r = Snapshot::restore(target.device, refix_crc(stream));
    REQUIRE_FALSE(r);
    CHECK(Snapshot::save(target.device) == before);
    return r.error();
}

} // namespace

TEST_CASE("a snapshot with 100,000 mappings restores into a fresh device, identical", "[unit][snapshot]")
{
    Populated source(100'000);
    REQUIRE(source.device.domains().find(hw::virtio_iommu::DomainId(1))->mappings.size() == 100'000);
    const auto stream = Snapshot::save(source.device);
    Fresh target;
    REQUIRE(Snapshot::restore(target.device, stream));
    // The restored device saves to the same bytes, and behaves the same.
    CHECK(Snapshot::save(target.device) == stream);
    CHECK(target.device.driver_features() == source.device.driver_features());
    CHECK(target.device.status() == source.device.status());
    CHECK(target.device.bypass_field() == 0);
    CHECK(target.device.domains().find(hw::virtio_iommu::DomainId(2))->bypass);
    for (uint64_t i = 0; i < 100'000; i += 997) {
        const auto a = source.device.translate(hw::virtio_iommu::EndpointId(8), Iova(i * 0x2000 + 0x10), hw::virtio_iommu::Access::kRead);
        const auto b = target.device.translate(hw::virtio_iommu::EndpointId(0x10), Iova(i * 0x2000 + 0x10), hw::virtio_iommu::Access::kRead);
        REQUIRE((a.ok && b.ok && a.gpa == b.gpa));
    }
}

TEST_CASE("a snapshot keeps the queue indices and negotiated state", "[unit][snapshot]")
{
    Populated source;
    const auto stream = Snapshot::save(source.device);
    Fresh target;
    REQUIRE(Snapshot::restore(target.device, stream));
    const auto a = source.device.save_state();
    const auto b = target.device.save_state();
    REQUIRE(a.queues.size() == b.queues.size());
    for (std::size_t i = 0; i < a.queues.size(); ++i) {
        CHECK(a.queues[i].indices.next_avail == b.queues[i].indices.next_avail);
        CHECK(a.queues[i].indices.used_idx == b.queues[i].indices.used_idx);
        CHECK(a.queues[i].desc == b.queues[i].desc);
    }
}

TEST_CASE("a truncated snapshot is refused at every length and the target is untouched", "[unit][snapshot]")
{
    Populated source(4);
    const auto stream = Snapshot::save(source.device);
    Fresh target;
    const auto before = Snapshot::save(target.device);
    for (std::size_t n = 0; n < stream.size(); ++n) {
        const auto r = Snapshot::restore(target.device, std::span(stream).first(n));
        REQUIRE_FALSE(r);
        REQUIRE((r.error().find("truncated") != std::string::npos || r.error().find("bad magic") != std::string::npos));
    }
    CHECK(Snapshot::save(target.device) == before);
}

TEST_CASE("any flipped bit is refused as corrupted", "[unit][snapshot]")
{
    Populated source(2);
    const auto stream = Snapshot::save(source.device);
    Fresh target;
    const auto before = Snapshot::save(target.device);
    for (std::size_t bit = 8 * 20; bit < stream.size() * 8; bit += 7) { // past the header's length field
        auto bad = stream;
        bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        REQUIRE_FALSE(Snapshot::restore(target.device, bad));
    }
    CHECK(Snapshot::save(target.device) == before);
}

TEST_CASE("a snapshot of another version is refused", "[unit][snapshot]")
{
    Populated source(2);
    auto stream = Snapshot::save(source.device);
    stream[8] = 2;
    Fresh target;
    const auto r = Snapshot::restore(target.device, refix_crc(stream));
    REQUIRE_FALSE(r);
    CHECK(r.error() == "snapshot version 2 is not supported (this viommu reads version 1)");
}

TEST_CASE("bytes after the snapshot and a bad magic are refused", "[unit][snapshot]")
{
    Populated source(2);
    auto stream = Snapshot::save(source.device);
    Fresh target;
    auto longer = stream;
    longer.push_back(0);
    CHECK(Snapshot::restore(target.device, longer).error() == "1 bytes after the end of the snapshot");
    auto other = stream;
    other[0] = 'X';
    CHECK(Snapshot::restore(target.device, other).error() == "not a viommu snapshot (bad magic)");
}

TEST_CASE("a snapshot of a device with other properties is refused", "[unit][snapshot]")
{
    Populated source(2);
    const auto stream = Snapshot::save(source.device);
    system::machine::Machine machine;
    auto config = test_config();
    config.probe_size = 1024;
    auto& target = machine.add_device<hw::virtio_iommu::VirtioIommu>(config);
    const auto r = Snapshot::restore(target, stream);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains("other properties"));
}

TEST_CASE("a well-checksummed snapshot with inconsistent contents is refused", "[unit][snapshot]")
{
    // Two overlapping mappings: bytes no MAP sequence could have produced.
    Populated source(2);
    auto stream = Snapshot::save(source.device);
    // The second mapping's record is virt_start, virt_end, phys_start (8 bytes each), flags: find it by
    // its phys_start, 0x40001000.
    const auto at = mapping_phys_field(stream, 0x40001000);
    std::fill(at - 16, at - 8, 0); // virt_start 0: over the first mapping, 0x0-0xfff
    CHECK_THAT(refusal_of(stream), Catch::Contains("is not one MAP could have made"));
}

TEST_CASE("a snapshot whose rings lie outside the target's RAM is refused", "[unit][snapshot]")
{
    Populated source(2);
    const auto stream = Snapshot::save(source.device);
    system::machine::Machine small({0x8000'0000, 1ull << 20}); // the rings sit at 0x40000000 in the source
    auto& target = small.add_device<hw::virtio_iommu::VirtioIommu>(test_config());
    const auto r = Snapshot::restore(target, stream);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains("not inside guest RAM"));
    CHECK(target.domains().domain_count() == 0);
}

TEST_CASE("a snapshot mapping over a reserved region is refused, as MAP of that range is", "[unit][snapshot]")
{
    // §5.13.6.8.1.2: the device rejects a MAP that overlaps a RESV_MEM region (the x86 MSI window,
    // reserved for every endpoint of test_config()).
    Populated source(2);
    REQUIRE(source.client.map(1, 0xfee00000, 0xfee00fff, 0x40002000, VIRTIO_IOMMU_MAP_F_READ) ==
            VIRTIO_IOMMU_S_INVAL);
    auto stream = Snapshot::save(source.device);
    // The second mapping, 0x2000-0x2fff, moved into the MSI window (still after the first in IOVA order).
    const auto at = mapping_phys_field(stream, 0x40001000);
    put_le(at - 16, 0xfee00000, 8);
    put_le(at - 8, 0xfee00fff, 8);
    CHECK_THAT(refusal_of(stream), Catch::Contains("range overlaps a reserved region of an attached endpoint"));
}

TEST_CASE("a snapshot mapping with MAP_F_MMIO is refused when VIRTIO_IOMMU_F_MMIO was not negotiated",
          "[unit][snapshot]")
{
    // §5.13.6.5.2: MAP_F_MMIO is a flag only with VIRTIO_IOMMU_F_MMIO; without it the flag is unknown and
    // MAP answers INVAL.
    Populated source(2, ~(virtio::FeatureBits{1} << VIRTIO_IOMMU_F_MMIO));
    REQUIRE(source.client.map(1, 0x100000, 0x100fff, 0x40002000, VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_MMIO) ==
            VIRTIO_IOMMU_S_INVAL);
    auto stream = Snapshot::save(source.device);
    put_le(mapping_phys_field(stream, 0x40001000) + 8, VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_MMIO, 4);
    CHECK_THAT(refusal_of(stream), Catch::Contains("unknown or unnegotiated flags"));
}

namespace {

// Restores a copy of a driven device's state with `damage` applied: the message, or "" if accepted.
template <class Damage>
std::string restore_damaged(Damage damage)
{
    IommuGuest source;
    virtio::DeviceState state = source.device.save_state();
    damage(state);
    IommuGuest target;
    const auto ok = target.device.restore_state(state);
    return ok ? std::string() : ok.error();
}

} // namespace

TEST_CASE("a snapshot with DRIVER_OK but not FEATURES_OK is refused", "[unit][snapshot][3.1.1]")
{
    CHECK_THAT(restore_damaged([](virtio::DeviceState& s) { s.status &= ~virtio::status::kFeaturesOk; }),
               Catch::Contains("DRIVER_OK without FEATURES_OK"));
}

TEST_CASE("a snapshot with NEEDS_RESET set and the device not broken is refused", "[unit][snapshot][2.1.2]")
{
    CHECK_THAT(restore_damaged([](virtio::DeviceState& s) { s.status |= virtio::status::kNeedsReset; }),
               Catch::Contains("NEEDS_RESET"));
}

TEST_CASE("a snapshot of a broken device without NEEDS_RESET is refused", "[unit][snapshot][2.1.2]")
{
    CHECK_THAT(restore_damaged([](virtio::DeviceState& s) {
                   s.broken = true;
                   s.failure = "gave up";
               }),
               Catch::Contains("NEEDS_RESET"));
}

TEST_CASE("a snapshot with FAILED set is refused", "[unit][snapshot][2.1.1]")
{
    CHECK_THAT(restore_damaged([](virtio::DeviceState& s) { s.status |= virtio::status::kFailed; }),
               Catch::Contains("FAILED"));
}

TEST_CASE("a snapshot with FEATURES_OK but not VERSION_1 is refused", "[unit][snapshot][6.1]")
{
    CHECK_THAT(restore_damaged([](virtio::DeviceState& s) { s.driver_features &= ~virtio::feature(virtio::kFVersion1); }),
               Catch::Contains("VERSION_1"));
}

TEST_CASE("a snapshot with mappings is refused when VIRTIO_IOMMU_F_MAP_UNMAP was not negotiated", "[unit][snapshot]")
{
    // §5.13.6.5: MAP is a request of VIRTIO_IOMMU_F_MAP_UNMAP; without it no mapping can exist. The
    // source leaves RING_RESET out so that its negotiated features differ from the offered ones in the
    // stream's configuration, and are found by their value.
    Populated source(2, ~virtio::feature(virtio::kFRingReset));
    auto stream = Snapshot::save(source.device);
    const uint64_t negotiated = source.device.driver_features();
    const uint64_t without_map_unmap = negotiated & ~virtio::feature(VIRTIO_IOMMU_F_MAP_UNMAP);
    uint8_t le[8];
    for (int i = 0; i < 8; ++i)
        le[i] = static_cast<uint8_t>(negotiated >> (8 * i));
    const auto at = std::search(stream.begin(), stream.end(), std::begin(le), std::end(le));
    REQUIRE(at != stream.end());
    put_le(at, without_map_unmap, 8);
    CHECK_THAT(refusal_of(stream), Catch::Contains("VIRTIO_IOMMU_F_MAP_UNMAP was not negotiated"));
}

namespace {

// test_config() with a region reserved for endpoint 0x8 alone at 0x9000-0x9fff, and, with `for_all`,
// that region reserved for the other endpoints too, named one range at a time.
hw::virtio_iommu::IommuConfig joiner_config(bool for_all = false)
{
    auto c = test_config();
    hw::virtio_iommu::ReservedRegion region{{c.endpoints[0]}, {Iova(0x9000), Iova(0x9fff)}, hw::virtio_iommu::ResvMemSubtype::kReserved};
    if (for_all)
        region.endpoints = c.endpoints;
    c.reserved.push_back(region);
    return c;
}

} // namespace

TEST_CASE("a mapping over a reserved region of each endpoint its domain has now restores, as the guest could make it",
          "[unit][snapshot]")
{
    // §5.13.6.3 gives ATTACH no rule about a domain's mappings and an endpoint's reserved regions: endpoint
    // 0x10 makes the mapping over 0x8's region, 0x8 joins, 0x10 leaves. The domain now holds a mapping
    // over a region of its only endpoint; a MAP from it would be refused, yet the state is the guest's.
    IommuGuest source(joiner_config());
    REQUIRE(source.client.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.map(1, 0x9000, 0x9fff, 0x40000000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.detach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    const auto stream = Snapshot::save(source.device);
    system::machine::Machine machine;
    auto& target = machine.add_device<hw::virtio_iommu::VirtioIommu>(joiner_config());
    const auto r = Snapshot::restore(target, stream);
    REQUIRE(r);
    CHECK(Snapshot::save(target) == stream);
}

TEST_CASE("a snapshot mapping over a region reserved for every endpoint, range by range, is refused",
          "[unit][snapshot]")
{
    // No endpoint could have been attached when MAP made it (§5.13.6.8.1.2).
    IommuGuest source(joiner_config(true));
    REQUIRE(source.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.map(1, 0x8000, 0x8fff, 0x40000000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.map(1, 0x9000, 0x9fff, 0x40001000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_INVAL);
    auto stream = Snapshot::save(source.device);
    // The mapping moved one page up, into the region.
    const auto at = mapping_phys_field(stream, 0x40000000);
    put_le(at - 16, 0x9000, 8);
    put_le(at - 8, 0x9fff, 8);
    system::machine::Machine machine;
    auto& target = machine.add_device<hw::virtio_iommu::VirtioIommu>(joiner_config(true));
    const auto before = Snapshot::save(target);
    const auto r = Snapshot::restore(target, refix_crc(stream));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains("overlaps a reserved region of every endpoint"));
    CHECK(Snapshot::save(target) == before);
}

TEST_CASE("a qemu-7.2 device's state round-trips, and the endpoints it knows after a restore are those attached",
          "[unit][snapshot][profile]")
{
    // QEMU 7.2's post_load rebuilds its endpoints from its domains' lists: a restored device knows the
    // attached endpoints only (DETACH of another is NOENT). A mapping only QEMU accepts survives the trip.
    auto config = test_config();
    config.use_profile(hw::virtio_iommu::find_device_profile("qemu-7.2")->behaviour);
    IommuGuest source(config);
    REQUIRE(source.client.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.attach(2, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.detach(2, 0x10) == VIRTIO_IOMMU_S_OK);
    REQUIRE(source.client.map(1, 0x1001, 0x1fff, 0x40000000, VIRTIO_IOMMU_MAP_F_READ) == VIRTIO_IOMMU_S_OK);
    const auto stream = Snapshot::save(source.device);

    system::machine::Machine machine;
    auto& target = machine.add_device<hw::virtio_iommu::VirtioIommu>(config);
    REQUIRE(Snapshot::restore(target, stream));
    CHECK(target.domains().has_state(hw::virtio_iommu::EndpointId(8)));
    CHECK_FALSE(target.domains().has_state(hw::virtio_iommu::EndpointId(0x10)));
    CHECK(target.translate(hw::virtio_iommu::EndpointId(8), Iova(0x1801), hw::virtio_iommu::Access::kRead).gpa ==
          0x40000800);

    // The spec's device is not one of the same properties: QEMU's limits are none.
    Fresh spec;
    const auto refused = Snapshot::restore(spec.device, stream);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error(), Catch::Contains("other properties"));
}
