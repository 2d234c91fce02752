// A QEMU process driven over qtest, with its guest RAM shared with ours.
//
// Started as QEMU's own qtest tests start it (tests/qtest/libqtest.c): the machine stopped before any
// guest code runs (-S), no default devices, no display, the qtest protocol on a UNIX socket we listen on.
// Debian's QEMU 7.2 has no qtest accelerator (-accel qtest) but serves the protocol all the same with
// -accel tcg: the CPU never runs, and every qtest access goes through the first CPU's address space.
// The qtest log goes to /dev/null so that stderr carries only QEMU's own messages.
//
// Guest RAM is a memfd of ours, handed to QEMU as fd 3 and opened there as
// "-object memory-backend-file,mem-path=/proc/self/fd/3,share=on -machine memory-backend=ram" (verified
// with QEMU 7.2: memory-backend-memfd would create the memfd inside QEMU, out of our reach). Both sides map
// it MAP_SHARED, so memory() is QEMU's RAM, byte for byte, with no copy; q35_layout.h says which guest-
// physical ranges it covers. No file is left behind: the socket and its directory are removed as soon as
// QEMU connects, and the memfd has no name in any file system.
//
// Every failure to start (no such binary, QEMU exiting, a socket that never connects, no answer to the
// first request within the timeouts) is an error value carrying QEMU's stderr. The process is killed on
// destruction; it also gets SIGKILL should ours die first (PR_SET_PDEATHSIG).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/expected.h"
#include "system/qemu/qtest_client.h"
#include "virtio/guest_memory.h"

namespace viommu::system::qemu {

struct QemuConfig {
    std::string binary = "qemu-system-x86_64"; // a path, or a name looked up on PATH
    // Guest RAM: whole MiB, at least 2 MiB and below q35::kLowRamLimit so that it all lies below 4 GiB.
    uint64_t ram_bytes = uint64_t{64} << 20;
    std::vector<std::string> devices;    // each one -device argument, e.g. "virtio-iommu-pci,addr=02.0"
    std::vector<std::string> extra_args; // appended as they are
    std::chrono::milliseconds start_timeout{10000}; // until QEMU connects and answers its first request
    std::chrono::milliseconds reply_timeout{5000};  // for each qtest request afterwards
};

// binary itself when it names a path, else the first executable of that name on PATH; why not.
[[nodiscard]] Expected<std::string, std::string> find_qemu_binary(const std::string& binary);

class QemuProcess {
public:
    // Started, connected and answering; or why not, with QEMU's stderr.
    static Expected<std::unique_ptr<QemuProcess>, std::string> start(const QemuConfig& config);
    QemuProcess(const QemuProcess&) = delete;
    QemuProcess& operator=(const QemuProcess&) = delete;
    ~QemuProcess();

    QtestClient& qtest() { return *qtest_; }
    virtio::GuestMemory& memory() { return *memory_; }
    pid_t pid() const { return pid_; }
    const std::vector<std::string>& command_line() const { return argv_; }
    // What QEMU wrote to stderr and stdout so far (the last 256 KiB). The pipe is drained whenever a
    // qtest reply is awaited, so QEMU never blocks on it for long.
    const std::string& output();
    // QEMU's output and, once it has exited, how: what every error of this process ends with.
    std::string diagnostics(std::chrono::milliseconds wait_for_exit = std::chrono::milliseconds(0));

private:
    QemuProcess() = default;
    Expected<void, std::string> spawn(const std::string& path, int memfd);
    Expected<int, std::string> accept_connection(int listen_fd, std::chrono::steady_clock::time_point deadline);
    // Reads what the output pipe holds, waiting until deadline for its end (QEMU's exit); whether it ended.
    bool drain_output(std::chrono::steady_clock::time_point deadline);
    bool reap();
    void remove_socket();

    pid_t pid_ = -1;
    bool exited_ = false;
    int exit_status_ = 0;
    int output_fd_ = -1;
    std::string output_;
    std::string socket_dir_;
    std::string socket_path_;
    std::vector<std::string> argv_;
    std::unique_ptr<QtestClient> qtest_;
    std::optional<virtio::GuestMemory> memory_;
};

} // namespace viommu::system::qemu
