// A QEMU process over qtest: how it starts, how it fails to, its shared guest RAM and its end.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fstream>
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

TEST_CASE("a QEMU that never connects is an error after the start timeout, not a hang", "[integration][qemu]")
{
    char dir[] = "/tmp/viommu-hang-XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string script = std::string(dir) + "/hang";
    {
        std::ofstream out(script);
        out << "#!/bin/sh\necho stuck >&2\nexec sleep 30\n";
    }
    REQUIRE(chmod(script.c_str(), 0700) == 0);
    QemuConfig config = viommu_machine();
    config.binary = script;
    config.start_timeout = std::chrono::milliseconds(300);
    const auto started = std::chrono::steady_clock::now();
    auto qemu = QemuProcess::start(config);
    const auto took = std::chrono::steady_clock::now() - started;
    unlink(script.c_str());
    rmdir(dir);
    REQUIRE_FALSE(qemu);
    CHECK_THAT(qemu.error(), Catch::Contains("did not connect to the qtest socket in time") &&
                                 Catch::Contains("stuck"));
    CHECK(took < std::chrono::seconds(5));
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
