// A million chains of random shapes between the driver model and a device, every byte checked: the
// two sides of the virtio core agree on everything they exchange.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "tests/support/echo_device.h"
#include "tests/support/guest_fixture.h"

using namespace viommu;
using namespace viommu::test;

namespace {

struct Pending {
    std::vector<guest::virtio_drivers::Buf> out;
    std::vector<guest::virtio_drivers::Buf> in;
    std::vector<uint8_t> expected; // what the writable part must hold afterwards
    uint32_t in_bytes = 0;
};

void round_trip(virtio::FeatureBits features, uint32_t chains, uint32_t seed)
{
    Guest<EchoDevice> g{uint16_t{256}};
    g.bring_up(features);
    std::mt19937 rng(seed);
    auto pick = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };

    // Each in-flight chain owns a slot of guest memory: 8 buffers of up to 512 bytes each way.
    constexpr uint32_t kSlotBytes = 16 * 512;
    const uint32_t slots = 256;
    const GuestAddr arena = *g.alloc.alloc(uint64_t{slots} * kSlotBytes, 4096);
    std::vector<Pending> pending(slots + 1);
    std::vector<uint32_t> free_slots;
    for (uint32_t s = 1; s <= slots; ++s)
        free_slots.push_back(s);

    uint32_t sent = 0;
    uint32_t done = 0;
    uint64_t bytes_checked = 0;
    std::vector<uint8_t> in_bytes;
    while (done < chains) {
        // Add a random batch.
        const uint32_t batch = pick(1, 64);
        for (uint32_t b = 0; b < batch && sent < chains && !free_slots.empty(); ++b) {
            const uint32_t slot = free_slots.back();
            Pending& p = pending[slot];
            p = Pending{};
            const uint64_t base = arena.value() + uint64_t{slot - 1} * kSlotBytes;
            const uint32_t n_out = pick(1, 4), n_in = pick(1, 4);
            std::vector<uint8_t> data;
            for (uint32_t i = 0; i < n_out; ++i) {
                const uint32_t len = pick(1, 512);
                const GuestAddr at(base + i * 512);
                std::vector<uint8_t> bytes(len);
                for (auto& v : bytes)
                    v = static_cast<uint8_t>(rng());
                REQUIRE(g.mem.write(at, bytes));
                data.insert(data.end(), bytes.begin(), bytes.end());
                p.out.push_back({at, len});
            }
            for (uint32_t i = 0; i < n_in; ++i) {
                const uint32_t len = pick(1, 512);
                const GuestAddr at(base + (8 + i) * 512);
                REQUIRE(g.mem.fill(at, 0xcc, len));
                p.in.push_back({at, len});
                p.in_bytes += len;
            }
            const uint32_t echoed = std::min<uint32_t>(static_cast<uint32_t>(data.size()), p.in_bytes);
            p.expected.assign(p.in_bytes, 0xcc);
            for (uint32_t i = 0; i < echoed; ++i)
                p.expected[i] = data[i] ^ EchoDevice::kXor;
            if (!g.vq().add(p.out, p.in, slot))
                break; // ring full: reap first
            free_slots.pop_back();
            ++sent;
        }
        g.driver.kick(0);
        g.run();
        // Reap and check every byte of the writable part.
        while (auto used = g.vq().get_buf()) {
            Pending& p = pending[used->token];
            REQUIRE(used->len == std::min<uint32_t>(p.in_bytes, [&] {
                        uint32_t t = 0;
                        for (auto& b : p.out)
                            t += b.len;
                        return t;
                    }()));
            in_bytes.clear();
            for (const guest::virtio_drivers::Buf& b : p.in) {
                const std::size_t at = in_bytes.size();
                in_bytes.resize(at + b.len);
                REQUIRE(g.mem.read(b.addr, std::span(in_bytes.data() + at, b.len)));
            }
            REQUIRE(in_bytes == p.expected);
            bytes_checked += in_bytes.size();
            free_slots.push_back(static_cast<uint32_t>(used->token));
            ++done;
        }
        REQUIRE_FALSE(g.needs_reset());
        REQUIRE_FALSE(g.vq().broken());
    }
    CHECK(g.device.chains == chains);
    CHECK(bytes_checked > chains);
}

} // namespace

TEST_CASE("one million random chains round-trip byte for byte (indirect and event index)", "[integration][virtqueue]")
{
    round_trip(virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFIndirectDesc) |
                   virtio::feature(virtio::kFEventIdx),
               1'000'000, 1);
}

TEST_CASE("random chains round-trip with direct descriptors only", "[integration][virtqueue]")
{
    round_trip(virtio::feature(virtio::kFVersion1), 100'000, 2);
}
