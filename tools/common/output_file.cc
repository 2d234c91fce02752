#include "tools/common/output_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace viommu::tools {

Expected<void, std::string> replace_file(const std::string& path, const std::string& text)
{
    const auto fail = [&](int err) {
        return unexpected(fmt::format("cannot write {}: {}", path, std::strerror(err)));
    };
    // mkstemp() opens with O_CREAT|O_EXCL: it never reuses a name that exists, link or not.
    std::string tmp = path + ".XXXXXX";
    const int fd = mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0)
        return fail(errno);
    // mkstemp() makes the file 0600; give it what a plain open(O_CREAT, 0666) would have.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    (void)::fchmod(fd, 0666 & ~mask);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail(err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail(err);
    }
    return {};
}

Expected<void, std::string> write_output(const std::string& path, const std::string& text)
{
    if (path == kStandardOutput) {
        if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
            return unexpected(fmt::format("cannot write standard output: {}", std::strerror(errno)));
        return {};
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out)
        return unexpected(fmt::format("cannot write {}", path));
    return {};
}

} // namespace viommu::tools
