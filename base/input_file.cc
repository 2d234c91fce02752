#include "base/input_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace viommu {

namespace {

Expected<std::string, InputFileError> read_fd(int fd, std::size_t max_bytes)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return unexpected(InputFileError{false, std::strerror(errno)});
    if (S_ISDIR(st.st_mode))
        return unexpected(InputFileError{false, "is a directory"});
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return unexpected(InputFileError{false, std::strerror(errno)});
        if (n == 0)
            return text;
        // Checked before the append: the cap bounds what is held, not only what is kept.
        if (static_cast<std::size_t>(n) > max_bytes - text.size())
            return unexpected(InputFileError{true, fmt::format("larger than {} MiB", max_bytes >> 20)});
        text.append(buf, static_cast<std::size_t>(n));
    }
}

} // namespace

Expected<std::string, InputFileError> read_input_file(const std::string& path, std::size_t max_bytes)
{
    if (path == "-")
        return read_fd(STDIN_FILENO, max_bytes);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return unexpected(InputFileError{false, std::strerror(errno)});
    auto text = read_fd(fd, max_bytes);
    ::close(fd);
    return text;
}

} // namespace viommu
