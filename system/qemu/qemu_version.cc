#include "system/qemu/qemu_version.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "system/qemu/qemu_process.h"

extern char** environ;

namespace viommu::system::qemu {

Expected<QemuVersion, std::string> parse_qemu_version(std::string_view output)
{
    const std::string_view line = output.substr(0, output.find('\n'));
    constexpr std::string_view kPrefix = "QEMU emulator version ";
    const auto at = line.find(kPrefix);
    if (at == std::string_view::npos)
        return unexpected(fmt::format("not a QEMU version line: '{}'", line.substr(0, 200)));
    std::string_view rest = line.substr(at + kPrefix.size());
    QemuVersion v;
    v.line = std::string(line);
    unsigned* parts[] = {&v.major, &v.minor, &v.micro};
    for (std::size_t i = 0; i < 3; ++i) {
        std::size_t digits = 0;
        while (digits < rest.size() && digits < 6 && rest[digits] >= '0' && rest[digits] <= '9')
            ++digits;
        if (digits == 0)
            return unexpected(fmt::format("not a QEMU version line: '{}'", line.substr(0, 200)));
        for (std::size_t d = 0; d < digits; ++d)
            *parts[i] = *parts[i] * 10 + static_cast<unsigned>(rest[d] - '0');
        rest.remove_prefix(digits);
        if (i < 2) {
            if (rest.empty() || rest[0] != '.')
                break; // "8.0" has no micro part in some builds
            rest.remove_prefix(1);
        }
    }
    return v;
}

Expected<QemuVersion, std::string> qemu_version(const std::string& binary)
{
    auto path = find_qemu_binary(binary);
    if (!path)
        return unexpected(path.error());
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        return unexpected(fmt::format("cannot make a pipe: {}", std::strerror(errno)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string arg0 = *path, arg1 = "--version";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, path->c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    std::string output;
    if (spawned == 0) {
        char buf[4096];
        ssize_t n;
        while (output.size() < 65536 && ((n = ::read(pipe_fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
            if (n > 0)
                output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]); // before waiting: a child with more to say gets EPIPE rather than blocking
    if (spawned == 0) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (spawned != 0)
        return unexpected(fmt::format("cannot run {} --version: {}", *path, std::strerror(spawned)));
    return parse_qemu_version(output);
}

} // namespace viommu::system::qemu
