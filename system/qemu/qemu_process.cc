#include "system/qemu/qemu_process.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "system/qemu/q35_layout.h"

namespace viommu::system::qemu {

namespace {

using Clock = std::chrono::steady_clock;

// The fd number QEMU finds the guest RAM memfd at.
constexpr int kRamFdInChild = 3;
// How much of QEMU's output is kept: the last 256 KiB.
constexpr std::size_t kOutputKept = std::size_t{256} << 10;

// Closes an fd at scope exit unless released.
class FdGuard {
public:
    explicit FdGuard(int fd = -1) : fd_(fd) {}
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    ~FdGuard()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset()
    {
        if (fd_ >= 0)
            close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

std::string errno_text() { return std::strerror(errno); }

Expected<void, std::string> check_ram_size(uint64_t bytes)
{
    constexpr uint64_t kMiB = uint64_t{1} << 20;
    if (bytes % kMiB != 0 || bytes < 2 * kMiB || bytes >= q35::kLowRamLimit)
        return unexpected(fmt::format("guest RAM of {:#x} bytes: it must be whole MiB, at least 2 MiB and below "
                                      "{:#x} so that q35 keeps it all below 4 GiB", bytes, q35::kLowRamLimit));
    return {};
}

} // namespace

Expected<std::string, std::string> find_qemu_binary(const std::string& binary)
{
    if (binary.empty())
        return unexpected(std::string("no QEMU binary named"));
    if (binary.find('/') != std::string::npos) {
        if (access(binary.c_str(), X_OK) != 0)
            return unexpected(fmt::format("QEMU binary {} cannot be executed: {}", binary, errno_text()));
        return binary;
    }
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/bin:/bin";
    while (true) {
        const auto colon = dirs.find(':');
        const std::string dir(dirs.substr(0, colon));
        const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + binary;
        if (access(candidate.c_str(), X_OK) == 0)
            return candidate;
        if (colon == std::string_view::npos)
            break;
        dirs.remove_prefix(colon + 1);
    }
    return unexpected(fmt::format("QEMU binary {} not found on PATH", binary));
}


Expected<std::unique_ptr<QemuProcess>, std::string> QemuProcess::start(const QemuConfig& config)
{
    if (auto ram = check_ram_size(config.ram_bytes); !ram)
        return unexpected(ram.error());
    auto path = find_qemu_binary(config.binary);
    if (!path)
        return unexpected(path.error());

    std::unique_ptr<QemuProcess> qemu(new QemuProcess());
    const char* tmp = std::getenv("TMPDIR");
    std::string dir_template = std::string(tmp && *tmp ? tmp : "/tmp") + "/viommu-qemu-XXXXXX";
    if (!mkdtemp(dir_template.data()))
        return unexpected(fmt::format("cannot create a directory for the qtest socket: {}", errno_text()));
    qemu->socket_dir_ = dir_template;
    qemu->socket_path_ = dir_template + "/qtest.sock";

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (qemu->socket_path_.size() >= sizeof addr.sun_path)
        return unexpected(fmt::format("qtest socket path {} is too long for a UNIX socket", qemu->socket_path_));
    std::memcpy(addr.sun_path, qemu->socket_path_.c_str(), qemu->socket_path_.size() + 1);
    FdGuard listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listener.get() < 0 || bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener.get(), 1) != 0)
        return unexpected(fmt::format("cannot listen on {}: {}", qemu->socket_path_, errno_text()));

    FdGuard ram(memfd_create("viommu-guest-ram", MFD_CLOEXEC));
    if (ram.get() < 0 || ftruncate(ram.get(), static_cast<off_t>(config.ram_bytes)) != 0)
        return unexpected(fmt::format("cannot create {:#x} bytes of shared guest RAM: {}", config.ram_bytes,
                                      errno_text()));

    const uint64_t ram_mib = config.ram_bytes >> 20;
    qemu->argv_ = {*path,
                   "-machine", "q35,memory-backend=ram",
                   "-accel", "tcg",
                   "-S",
                   "-nodefaults",
                   "-display", "none",
                   "-qtest", "unix:" + qemu->socket_path_,
                   "-qtest-log", "/dev/null",
                   "-m", fmt::format("{}M", ram_mib),
                   "-object", fmt::format("memory-backend-file,id=ram,size={}M,mem-path=/proc/self/fd/{},share=on",
                                          ram_mib, kRamFdInChild)};
    for (const std::string& device : config.devices) {
        qemu->argv_.push_back("-device");
        qemu->argv_.push_back(device);
    }
    qemu->argv_.insert(qemu->argv_.end(), config.extra_args.begin(), config.extra_args.end());

    if (auto spawned = qemu->spawn(*path, ram.get()); !spawned)
        return unexpected(spawned.error());

    const auto deadline = Clock::now() + config.start_timeout;
    auto connection = qemu->accept_connection(listener.get(), deadline);
    qemu->remove_socket();
    if (!connection)
        return unexpected(connection.error());

    // The first request answers only once QEMU has created its devices and entered its main loop; a
    // -device QEMU refuses makes it exit instead.
    const auto first_reply = std::max(std::chrono::milliseconds(1),
                                      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    qemu->qtest_ = std::make_unique<QtestClient>(*connection, first_reply);
    QemuProcess* self = qemu.get();
    qemu->qtest_->set_error_context([self] { return self->diagnostics(std::chrono::milliseconds(1000)); });
    qemu->qtest_->set_side_channel([self] { return self->output_fd_; },
                                   [self] { self->drain_output(Clock::now()); });
    auto order = qemu->qtest_->endianness();
    if (!order)
        return unexpected("QEMU did not start: " + order.error());
    if (*order != "little")
        return unexpected(fmt::format("{} is a {}-endian target, not x86", *path, *order));
    qemu->qtest_->set_reply_timeout(config.reply_timeout);

    // q35_layout.h: RAM below the legacy hole, and from 1 MiB to its end.
    auto memory = virtio::GuestMemory::create_shared(
        ram.get(), {{{GuestAddr(0), q35::kLegacyHoleStart}, 0},
                    {{GuestAddr(q35::kLegacyHoleEnd), config.ram_bytes - q35::kLegacyHoleEnd}, q35::kLegacyHoleEnd}});
    if (!memory)
        return unexpected("cannot map QEMU's guest RAM: " + memory.error());
    qemu->memory_.emplace(std::move(*memory));
    return qemu;
}

Expected<void, std::string> QemuProcess::spawn(const std::string& path, int memfd)
{
    int output[2];
    int exec_status[2]; // the child writes errno here when exec fails; closed by a successful exec
    if (pipe2(output, O_CLOEXEC) != 0)
        return unexpected(fmt::format("cannot create a pipe for QEMU's output: {}", errno_text()));
    output_fd_ = output[0];
    FdGuard output_write(output[1]);
    if (pipe2(exec_status, O_CLOEXEC) != 0)
        return unexpected(fmt::format("cannot create a pipe: {}", errno_text()));
    FdGuard status_read(exec_status[0]);
    FdGuard status_write(exec_status[1]);
    FdGuard null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));

    std::vector<char*> argv;
    for (std::string& arg : argv_)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t parent = getpid();

    const pid_t pid = fork();
    if (pid < 0)
        return unexpected(fmt::format("cannot fork: {}", errno_text()));
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec. dup2() clears FD_CLOEXEC on its target.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        if (dup2(null_fd.get(), 0) < 0 || dup2(output[1], 1) < 0 || dup2(output[1], 2) < 0 ||
            dup2(memfd, kRamFdInChild) < 0)
            _exit(127);
        execv(path.c_str(), argv.data());
        const int error = errno;
        [[maybe_unused]] const ssize_t n = ::write(exec_status[1], &error, sizeof error);
        _exit(127);
    }
    pid_ = pid;
    status_write.reset();
    output_write.reset();
    fcntl(output_fd_, F_SETFL, fcntl(output_fd_, F_GETFL) | O_NONBLOCK);
    int exec_errno = 0;
    ssize_t n;
    do
        n = ::read(status_read.get(), &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    if (n == sizeof exec_errno)
        return unexpected(fmt::format("cannot execute QEMU binary {}: {}", path, std::strerror(exec_errno)));
    return {};
}

Expected<int, std::string> QemuProcess::accept_connection(int listen_fd, Clock::time_point deadline)
{
    for (;;) {
        pollfd fds[2] = {{listen_fd, POLLIN, 0}, {output_fd_, POLLIN, 0}};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return unexpected(fmt::format("QEMU did not connect to the qtest socket in time{}", diagnostics()));
        const int ready = poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR)
            return unexpected(fmt::format("poll: {}", errno_text()));
        if (ready <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0)
                return fd;
            if (errno != EINTR && errno != EAGAIN)
                return unexpected(fmt::format("accept: {}", errno_text()));
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            // The output's end is QEMU's exit (or its closing stdout and stderr, as good as an exit here).
            if (drain_output(Clock::now()))
                return unexpected("QEMU exited before connecting to the qtest socket" +
                                  diagnostics(std::chrono::milliseconds(1000)));
        }
    }
}

bool QemuProcess::drain_output(Clock::time_point deadline)
{
    if (output_fd_ < 0)
        return true;
    for (;;) {
        char buf[4096];
        const ssize_t n = ::read(output_fd_, buf, sizeof buf);
        if (n > 0) {
            output_.append(buf, static_cast<std::size_t>(n));
            if (output_.size() > kOutputKept) // what QEMU said last explains a failure best
                output_.erase(0, output_.size() - kOutputKept);
            continue;
        }
        if (n == 0) {
            close(output_fd_);
            output_fd_ = -1;
            return true;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return false;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return false;
        pollfd p{output_fd_, POLLIN, 0};
        poll(&p, 1, static_cast<int>(left.count()));
    }
}

const std::string& QemuProcess::output()
{
    drain_output(Clock::now());
    return output_;
}

bool QemuProcess::reap()
{
    if (exited_ || pid_ < 0)
        return exited_;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_status_ = status;
    }
    return exited_;
}

std::string QemuProcess::diagnostics(std::chrono::milliseconds wait_for_exit)
{
    const bool ended = drain_output(Clock::now() + wait_for_exit);
    std::string how;
    if (ended) {
        // The output's end comes a moment before the process can be reaped.
        for (int i = 0; i < 100 && !reap(); ++i)
            usleep(1000);
    }
    if (reap()) {
        if (WIFEXITED(exit_status_))
            how = fmt::format("; QEMU exited with status {}", WEXITSTATUS(exit_status_));
        else if (WIFSIGNALED(exit_status_))
            how = fmt::format("; QEMU was killed by signal {}", WTERMSIG(exit_status_));
    }
    const std::string& text = output_;
    return how + (text.empty() ? "; QEMU wrote nothing to stderr" : "; QEMU's stderr:\n" + text);
}

void QemuProcess::remove_socket()
{
    if (!socket_path_.empty())
        unlink(socket_path_.c_str());
    if (!socket_dir_.empty())
        rmdir(socket_dir_.c_str());
    socket_path_.clear();
    socket_dir_.clear();
}

QemuProcess::~QemuProcess()
{
    qtest_.reset();
    memory_.reset();
    if (pid_ > 0 && !reap()) {
        kill(pid_, SIGKILL);
        int status = 0;
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (output_fd_ >= 0)
        close(output_fd_);
    remove_socket();
}

} // namespace viommu::system::qemu
