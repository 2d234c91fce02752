// A QEMU process over qtest: how it starts, how it fails to, its shared guest RAM and its end.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <utility>
#include <sys/stat.h>
#include <unistd.h>

#include "system/qemu/q35_layout.h"
#include "tests/integration/system/qemu/qemu_fixture.h"

using namespace viommu;
using namespace viommu::system::qemu;
using namespace viommu::system::qemu::testing;

TEST_CASE("guest RAM is shared: bytes written through GuestMemory are what qtest reads, and back",
          "[integration][qemu]")
{
    auto qemu = start_qemu();
    virtio::GuestMemory& ram = qemu->memory();
    REQUIRE(ram.write_obj(GuestAddr(0x1000), uint8_t{0x5a}));
    CHECK(*qemu->qtest().read(0x1000, 1) == 0x5a);
    // The last byte of RAM: the whole file is mapped, up to -m.
    const uint64_t last = (uint64_t{32} << 20) - 1;
    REQUIRE(ram.write_obj(GuestAddr(last), uint8_t{0xa5}));
    CHECK(*qemu->qtest().read(last, 1) == 0xa5);
    REQUIRE(qemu->qtest().write(0x2000, 4, 0x11223344));
    CHECK(*ram.read_obj<uint32_t>(GuestAddr(0x2000)) == 0x11223344);
    const std::vector<uint8_t> bytes{1, 2, 3, 4, 5};
    REQUIRE(qemu->qtest().b64write(0x3000, bytes));
    std::vector<uint8_t> back(5);
    REQUIRE(ram.read(GuestAddr(0x3000), back));
    CHECK(back == bytes);
    // The legacy hole is not RAM to the guest (q35_layout.h).
    CHECK_FALSE(ram.contains(GuestAddr(q35::kLegacyHoleStart), 1));
    CHECK(ram.contains(GuestAddr(q35::kLegacyHoleEnd), 1));
}

TEST_CASE("a missing QEMU binary is a clear error", "[integration][qemu]")
{
    QemuConfig config = viommu_machine();
    config.binary = "viommu-no-such-qemu";
    auto qemu = QemuProcess::start(config);
    REQUIRE_FALSE(qemu);
    CHECK_THAT(qemu.error(), Catch::Contains("viommu-no-such-qemu not found on PATH"));
    config.binary = "/nonexistent/qemu-system-x86_64";
    auto by_path = QemuProcess::start(config);
    REQUIRE_FALSE(by_path);
    CHECK_THAT(by_path.error(), Catch::Contains("cannot be executed"));
}

TEST_CASE("a binary that exits at once is an error with its exit status", "[integration][qemu]")
{
    QemuConfig config = viommu_machine();
    config.binary = "false";
    auto qemu = QemuProcess::start(config);
    REQUIRE_FALSE(qemu);
    CHECK_THAT(qemu.error(), Catch::Contains("QEMU exited before connecting") &&
                                 Catch::Contains("exited with status 1"));
}

TEST_CASE("a -device QEMU refuses is an error carrying QEMU's stderr", "[integration][qemu]")
{
    QemuConfig config = viommu_machine();
    config.devices.push_back("viommu-no-such-device");
    auto qemu = QemuProcess::start(config);
    REQUIRE_FALSE(qemu);
    CHECK_THAT(qemu.error(), Catch::Contains("QEMU did not start") &&
                                 Catch::Contains("'viommu-no-such-device' is not a valid device model name"));
}

namespace {

// An executable script standing in for QEMU, removed at scope exit.
class FakeQemu {
public:
    explicit FakeQemu(const std::string& text)
    {
        REQUIRE(mkdtemp(dir_));
        path_ = std::string(dir_) + "/fake-qemu";
        std::ofstream(path_) << text;
        REQUIRE(chmod(path_.c_str(), 0700) == 0);
    }
    ~FakeQemu()
    {
        unlink(path_.c_str());
        rmdir(dir_);
    }
    const std::string& path() const { return path_; }

private:
    char dir_[32] = "/tmp/viommu-fake-qemu-XXXXXX";
    std::string path_;
};

// Starts config with binary and start_timeout, and says how long start() took to answer.
std::pair<Expected<std::unique_ptr<QemuProcess>, std::string>, std::chrono::steady_clock::duration>
timed_start(QemuConfig config, const std::string& binary, std::chrono::milliseconds start_timeout)
{
    config.binary = binary;
    config.start_timeout = start_timeout;
    const auto started = std::chrono::steady_clock::now();
    auto qemu = QemuProcess::start(config);
    return {std::move(qemu), std::chrono::steady_clock::now() - started};
}

} // namespace

TEST_CASE("a QEMU that never connects is an error after the start timeout, not a hang", "[integration][qemu]")
{
    FakeQemu hang("#!/bin/sh\necho stuck >&2\nexec sleep 30\n");
    // Long enough for the shell to have written its line on a machine running the whole suite.
    auto [qemu, took] = timed_start(viommu_machine(), hang.path(), std::chrono::milliseconds(2000));
    REQUIRE_FALSE(qemu);
    CHECK_THAT(qemu.error(), Catch::Contains("did not connect to the qtest socket in time") &&
                                 Catch::Contains("stuck"));
    CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("a QEMU that connects but never answers is an error after the start timeout, not a hang",
          "[integration][qemu]")
{
    // Connects to the socket named after -qtest unix:, then stays silent.
    FakeQemu mute("#!/usr/bin/env python3\nimport socket, sys, time\n"
                  "path = sys.argv[sys.argv.index('-qtest') + 1][len('unix:'):]\n"
                  "s = socket.socket(socket.AF_UNIX); s.connect(path)\n"
                  "print('connected, mute', file=sys.stderr, flush=True)\ntime.sleep(30)\n");
    // Long enough for Python to start and connect on a machine running the whole suite: with 1.5 s,
    // a load average of 15 sometimes left it unconnected, a different error.
    auto [qemu, took] = timed_start(viommu_machine(), mute.path(), std::chrono::milliseconds(5000));
    REQUIRE_FALSE(qemu);
    CHECK_THAT(qemu.error(), Catch::Contains("QEMU did not start") && Catch::Contains("endianness") &&
                                 Catch::Contains("no reply from QEMU") && Catch::Contains("connected, mute"));
    CHECK(took < std::chrono::seconds(10));
}

TEST_CASE("QEMU's output is drained while a reply is awaited, so a chatty QEMU never blocks on it",
          "[integration][qemu]")
{
    // Answers every request, but first writes 1 MiB to stderr: 16 times what a pipe holds.
    FakeQemu chatty("#!/usr/bin/env python3\nimport socket, sys\n"
                    "path = sys.argv[sys.argv.index('-qtest') + 1][len('unix:'):]\n"
                    "s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile('rw')\n"
                    "for line in f:\n"
                    "    sys.stderr.write('x' * (1 << 20) + 'said it all\\n'); sys.stderr.flush()\n"
                    "    f.write('OK little\\n' if line.strip() == 'endianness' else 'OK\\n'); f.flush()\n");
    QemuConfig config = viommu_machine();
    config.binary = chatty.path();
    config.reply_timeout = std::chrono::milliseconds(2000);
    auto qemu = QemuProcess::start(config);
    INFO((qemu ? std::string() : qemu.error()));
    REQUIRE(qemu);
    CHECK((*qemu)->qtest().write(0x1000, 1, 1));
    const std::string& output = (*qemu)->output();
    CHECK(output.size() == std::size_t{256} << 10); // only the last 256 KiB are kept
    CHECK(output.ends_with("said it all\n"));
}

TEST_CASE("a QEMU that dies during a session fails the next request with how it ended", "[integration][qemu]")
{
    auto qemu = start_qemu();
    REQUIRE(kill(qemu->pid(), SIGKILL) == 0);
    auto read = qemu->qtest().read(0x1000, 4);
    REQUIRE_FALSE(read);
    CHECK_THAT(read.error(), Catch::Contains("readl 0x1000") && Catch::Contains("killed by signal 9"));
}

TEST_CASE("a RAM size q35 would split around the PCI hole is refused", "[integration][qemu]")
{
    QemuConfig config = viommu_machine();
    config.ram_bytes = q35::kLowRamLimit;
    CHECK_FALSE(QemuProcess::start(config));
    config.ram_bytes = (uint64_t{32} << 20) + 1;
    CHECK_FALSE(QemuProcess::start(config));
}

TEST_CASE("destruction kills QEMU and leaves no socket behind", "[integration][qemu]")
{
    auto qemu = start_qemu();
    const pid_t pid = qemu->pid();
    const std::string socket = qemu->command_line()[std::find(qemu->command_line().begin(),
                                                              qemu->command_line().end(), "-qtest") -
                                                    qemu->command_line().begin() + 1];
    REQUIRE(socket.starts_with("unix:"));
    // The socket and its directory go as soon as QEMU has connected.
    CHECK(access(socket.substr(5).c_str(), F_OK) != 0);
    qemu.reset();
    CHECK(kill(pid, 0) != 0); // killed and reaped: no such process, not even a zombie
    CHECK(errno == ESRCH);
}
