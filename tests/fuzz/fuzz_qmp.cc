// fuzz-qmp: the bytes a QMP client sends to viommu-boot --qmp's monitor (docs/monitor.md), through a
// Session over the real command table of a live guest (tests/fuzz/qmp_guest.h). The input is the
// client's byte stream, with two bytes set aside as the client's actions:
//   - 0x1e (RS) ends a read: the bytes before it reach Session::receive() in one call, the next ones in
//     another, as a socket may cut a stream anywhere;
//   - 0x1d (GS) ends the connection: close(), then a new client with its own greeting and negotiation.
// Every other byte, control characters included, is the client's. The session's JSON limits are small
// (kLimits) so that their refusals are reachable in a short input; inputs are capped at kMaxInput.
// Checks: the lines the session sends (tests/fuzz/qmp_oracle.h) and, after the input, the guest
// (QmpGuest::settle()).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "system/monitor/guest_commands.h"
#include "system/monitor/session.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/qmp_guest.h"
#include "tests/fuzz/qmp_oracle.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace monitor = viommu::system::monitor;

namespace {

constexpr char kEndRead = '\x1e';
constexpr char kReconnect = '\x1d';
constexpr char kActions[] = {kEndRead, kReconnect, '\0'};

// 16 KiB: a whole session of every command with its arguments is under 2 KiB, and a message over
// kLimits' bytes, tokens or nesting fits several times.
constexpr std::size_t kMaxInput = 16 << 10;
// QEMU's are 64 MiB, 2 Mi tokens and nesting 1024 (json-streamer.c); scaled down so that each is
// crossed by a message of about a KiB. libFuzzer's inputs grow to the largest seed's size, and the
// answers a longer input draws are most of the target's time (docs/fuzzing.md, fourth pass).
constexpr monitor::JsonLimits kLimits{1 << 10, 128, 32};

QmpGuest& live_guest()
{
    // One per thread (libFuzzer's -jobs run processes, but a thread-safe target costs nothing here).
    thread_local QmpGuest g;
    return g;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    if (size > kMaxInput)
        return -1; // not kept in the corpus
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    QmpGuest& g = live_guest();
    QmpOracle oracle(kLimits);
    std::unique_ptr<monitor::Session> session;
    g.set_hooks([&session](const monitor::Event& e) { session->event(e); }, [&session] { session->halt(); });
    const auto connect = [&] {
        session = std::make_unique<monitor::Session>(g.commands(), monitor::monitor_version("fuzz"),
                                                     [&oracle](std::string line) { oracle.line(line); }, kLimits);
        oracle.connect();
        session->open();
    };

    connect();
    std::size_t start = 0;
    // After quit the monitor reads nothing more and accepts no client (viommu-boot exits).
    while (start <= input.size() && !oracle.quit()) {
        const std::size_t end = std::min(input.find_first_of(kActions, start), input.size());
        const std::string_view bytes = input.substr(start, end - start);
        oracle.client_sends(bytes);
        session->receive(bytes);
        oracle.received();
        if (end < input.size() && input[end] == kReconnect && !oracle.quit()) {
            session->close();
            oracle.disconnect();
            connect();
        }
        start = end + 1;
    }
    session->close();
    oracle.disconnect();
    // No client from here on: settle()'s queries must raise nothing.
    g.set_hooks([](const monitor::Event& e) { finding("fuzz-qmp: a query raised event " + e.name); },
                [] { finding("fuzz-qmp: a query quit"); });
    g.settle(oracle.guest_changed(), oracle.plugged());
    return 0;
}
