// The fuzz inputs' formats: what scripts/fuzz --reproduce prints must be the input's scenario, and what
// the seeds encode must decode to the script they came from.
#include <catch2/catch.hpp>

#include <random>

#include <linux/virtio_iommu.h>

#include "guest-model/virtio-iommu/requests.h"
#include "system/replay/script.h"
#include "tests/fuzz/device_run.h"
#include "tests/fuzz/mmio_scenario.h"
#include "tests/fuzz/pci_scenario.h"
#include "tests/fuzz/ring_scenario.h"
#include "tests/fuzz/scenario.h"
#include "tests/fuzz/scenario_script.h"

using namespace viommu;
using namespace viommu::fuzz;

namespace {

constexpr const char* kEveryWord = "attach 1 8\n"
                                   "attach 2 9 bypass\n"
                                   "detach 2 9\n"
                                   "map 1 0x1000 0x1fff 0x40000000 rw\n"
                                   "map 1 0x2000 0x2fff 0x0 -\n"
                                   "unmap 1 0x1000 0x1fff\n"
                                   "probe 8\n"
                                   "raw 2a000000 in=4\n"
                                   "raw 0100000001000000080000000000000001000000 in=4\n"
                                   "dma 8 0x1000 w 0x2000\n"
                                   "dma 9 0xfee00000 r\n"
                                   "bypass 0\n"
                                   "reset\n";

const std::vector<std::string> kArgs = {"--endpoints", "0x8-0x9,0x10", "--granule", "64k", "--aw-bits", "48",
                                        "--domain-range", "1-1023", "--resv", "0x10:0x8000000-0x80fffff:reserved",
                                        "--no-feature", "mmio", "--decline", "probe", "--max-domains", "3",
                                        "--event-buffers", "4"};

std::vector<uint8_t> random_bytes(std::mt19937& rng, std::size_t n)
{
    std::vector<uint8_t> out(n);
    for (auto& b : out)
        b = static_cast<uint8_t>(rng());
    return out;
}

} // namespace

TEST_CASE("a scenario from a script survives the trip to fuzz input and back", "[unit][fuzz]")
{
    const auto s = scenario_from_script(kEveryWord, kArgs);
    REQUIRE(s);
    CHECK(s->actions.size() == 13);
    const auto bytes = encode_scenario(*s);
    REQUIRE(bytes);
    CHECK(decode_scenario(*bytes) == *s);
}

TEST_CASE("a scenario renders as the script and options it came from", "[unit][fuzz]")
{
    const auto s = scenario_from_script(kEveryWord, kArgs);
    REQUIRE(s);
    const auto again = scenario_from_script(render_script(*s), replay_args(s->device));
    REQUIRE(again);
    CHECK(*again == *s);
    // The well-formed raw ATTACH becomes a typed line; the unknown type stays raw.
    CHECK(render_script(*s).find("attach 1 8\n") != std::string::npos);
    CHECK(render_script(*s).find("raw 2a000000 in=4\n") != std::string::npos);
}

TEST_CASE("any input decodes to a valid device whose options render exactly", "[unit][fuzz]")
{
    std::mt19937 rng(1);
    for (int i = 0; i < 500; ++i) {
        const Scenario s = decode_scenario(random_bytes(rng, 64 + i));
        INFO(describe_scenario(s));
        CHECK(iommu_config(s.device).problems().empty());
        const auto parsed = scenario_from_script("", replay_args(s.device));
        REQUIRE(parsed);
        CHECK(parsed->device == s.device);
    }
}

TEST_CASE("any input's script replays the same requests", "[unit][fuzz]")
{
    // Requests, DMA, bypass writes and resets come back from the script as they were; only batching
    // and descriptor splits, which a script cannot say, are lost.
    std::mt19937 rng(2);
    for (int i = 0; i < 200; ++i) {
        const Scenario s = decode_scenario(random_bytes(rng, 256));
        INFO(describe_scenario(s));
        const auto parsed = scenario_from_script(render_script(s), replay_args(s.device));
        REQUIRE(parsed);
        std::vector<Action> flat;
        for (const Action& a : s.actions) {
            const auto* send = std::get_if<SendAction>(&a);
            if (!send) {
                flat.push_back(a);
                continue;
            }
            for (const auto& req : send->requests)
                if (!req.empty())
                    flat.push_back(SendAction{{req}, send->writable, 0});
        }
        CHECK(parsed->actions == flat);
    }
}

TEST_CASE("every request a scenario sends has at least one descriptor", "[unit][fuzz]")
{
    // A buffer goes into the descriptor table as its elements, one descriptor or more (virtio v1.2
    // §2.7.13.1; Linux's virtqueue_add() refuses total_sg == 0, and so does DriverQueue::add): a request
    // with no readable and no writable byte cannot be queued, so a decoded scenario never asks for one.
    auto every_chain_has_a_descriptor = [](const Scenario& s) {
        for (const Action& a : s.actions)
            if (const auto* send = std::get_if<SendAction>(&a))
                for (const auto& req : send->requests)
                    if (req.empty() && send->writable == 0)
                        return false;
        return true;
    };
    // tests/fuzz/regressions/fuzz-differential/batch-empty-request: a batch whose first request (raw, 1
    // byte) sets the batch's writable size to 0 and whose second request is raw with no byte.
    const std::vector<uint8_t> batch = {0x34, 0xf8, 0xef, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x61,
                                        0x62, 0x31, 0x01, 0x00, 0x00, 0x00, 0x10};
    const Scenario s = decode_scenario(batch);
    INFO(describe_scenario(s));
    REQUIRE(s.actions.size() == 1);
    const auto* send = std::get_if<SendAction>(&s.actions[0]);
    REQUIRE(send);
    CHECK(send->requests.size() == 4);
    CHECK(send->writable == guest::virtio_iommu::req::kTailSize);
    CHECK(every_chain_has_a_descriptor(s));

    std::mt19937 rng(3);
    for (int i = 0; i < 2000; ++i) {
        const Scenario r = decode_scenario(random_bytes(rng, 32 + i % 512));
        INFO(describe_scenario(r));
        REQUIRE(every_chain_has_a_descriptor(r));
    }
}

TEST_CASE("ring and mmio inputs survive the trip to bytes and back", "[unit][fuzz]")
{
    RingScenario r;
    r.layout = {64, 0x100000, 0x101000, 0x102000, true, false};
    r.ops = {WriteDesc{0, 3, 0x103000, 20, 1, 4},      WriteDesc{0x110100, 0, 0xdead0000, 4, 2, 0},
             WriteBytes{0x400010, {1, 2, 3}},           Publish{3},
             SetAvailIdx{0x8000},                       Notify{},
             Relayout{{1, 0xfff0, 0x100002, 0x100004, false, true}}};
    CHECK(decode_ring_scenario(encode_ring_scenario(r)) == r);

    const std::vector<MmioOp> ops = {RegRead{0x70, 4}, RegWrite{0x124, 1, 1}, RegWrite{0x80, 8, 0x123456789},
                                     RamWrite{0x100, {9, 8, 7}}, RunDevice{}};
    CHECK(decode_mmio_ops(encode_mmio_ops(ops)) == ops);
}

TEST_CASE("pci inputs survive the trip to bytes and back", "[unit][fuzz]")
{
    const std::vector<PciOp> ops = {ConfigRead{0x04, 2},        ConfigWrite{0x9a, 2, 0x8000},
                                    BarRead{4, 0x1000, 1},      BarWrite{4, 0x20, 8, 0x123456789},
                                    BarWrite{1, 0x0c, 4, 0},    BarRead{1, 0x800, 8},
                                    RamWrite{0x100, {9, 8, 7}}, RunDevice{}};
    CHECK(decode_pci_ops(encode_pci_ops(ops)) == ops);
}

TEST_CASE("a device prefix decodes to the device it encodes and leaves the rest unread", "[unit][fuzz]")
{
    // fuzz-replay-script's seeds: a script's options as the prefix, then its text.
    const auto scenario = scenario_from_script("", kArgs);
    REQUIRE(scenario);
    ByteWriter w;
    REQUIRE(encode_device(w, scenario->device));
    const std::string text = "attach 1 8\n";
    w.bytes(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    ByteReader r(w.data());
    CHECK(decode_device(r) == scenario->device);
    CHECK(r.remaining() == text.size());
}
