#include "system/truth/host_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace viommu::system::truth {

std::string command_text(const std::vector<std::string>& argv)
{
    std::string out;
    for (const std::string& a : argv)
        out += (out.empty() ? "" : " ") + a;
    return out;
}

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options)
{
    CommandResult result;
    int pipe_fds[2] = {-1, -1};
    if (!options.stdout_file && pipe(pipe_fds) != 0)
        return result;
    const pid_t pid = fork();
    if (pid < 0)
        return result;
    if (pid == 0) {
        if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0)
            _exit(127);
        int out_fd = pipe_fds[1];
        if (options.stdout_file)
            out_fd = open(options.stdout_file->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out_fd < 0)
            _exit(127);
        dup2(out_fd, STDOUT_FILENO);
        if (options.stderr_file) {
            const int err_fd = open(options.stderr_file->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (err_fd < 0)
                _exit(127);
            dup2(err_fd, STDERR_FILENO);
        }
        const int null_in = open("/dev/null", O_RDONLY);
        if (null_in >= 0)
            dup2(null_in, STDIN_FILENO);
        // Its own process group, so that a time limit ends it and any children it started.
        setpgid(0, 0);
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    if (pipe_fds[1] >= 0)
        close(pipe_fds[1]);
    const auto deadline = options.time_limit ? std::chrono::steady_clock::now() + *options.time_limit
                                             : std::chrono::steady_clock::time_point::max();
    int status = 0;
    for (;;) {
        if (pipe_fds[0] >= 0) {
            pollfd p{pipe_fds[0], POLLIN, 0};
            if (poll(&p, 1, 100) > 0) {
                char buf[65536];
                const ssize_t n = read(pipe_fds[0], buf, sizeof buf);
                if (n > 0)
                    result.out.append(buf, static_cast<size_t>(n));
                else {
                    close(pipe_fds[0]);
                    pipe_fds[0] = -1;
                }
                continue;
            }
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid && pipe_fds[0] < 0)
            break;
        if (done == pid) {
            // Exited: drain what is left in the pipe.
            char buf[65536];
            ssize_t n;
            while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0)
                result.out.append(buf, static_cast<size_t>(n));
            close(pipe_fds[0]);
            pipe_fds[0] = -1;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            result.timed_out = true;
            if (pipe_fds[0] >= 0)
                close(pipe_fds[0]);
            return result;
        }
    }
    if (WIFEXITED(status))
        result.status = WEXITSTATUS(status);
    return result;
}

} // namespace viommu::system::truth
