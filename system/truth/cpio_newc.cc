#include "system/truth/cpio_newc.h"

#include <fmt/format.h>

namespace viommu::system::truth {
namespace {

void pad4(std::string& s)
{
    while (s.size() % 4 != 0)
        s.push_back('\0');
}

} // namespace

void CpioWriter::entry(std::string_view path, uint32_t mode, std::string_view data, unsigned rmajor, unsigned rminor)
{
    // c_magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
    // namesize (with its NUL), check: all 8 hex digits.
    out_ += fmt::format("070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                        ino_++, mode, 0, 0, (mode & 0170000) == 0040000 ? 2 : 1, 0, data.size(), 0, 0, rmajor,
                        rminor, path.size() + 1, 0);
    out_.append(path);
    out_.push_back('\0');
    pad4(out_);
    out_.append(data);
    pad4(out_);
}

void CpioWriter::directory(std::string_view path)
{
    entry(path, 0040755, {});
}

void CpioWriter::file(std::string_view path, std::string_view data, bool executable)
{
    entry(path, executable ? 0100755 : 0100644, data);
}

void CpioWriter::symlink(std::string_view path, std::string_view target)
{
    entry(path, 0120777, target);
}

void CpioWriter::char_device(std::string_view path, unsigned major, unsigned minor)
{
    entry(path, 0020600, {}, major, minor);
}

std::string CpioWriter::finish()
{
    entry("TRAILER!!!", 0, {});
    return std::move(out_);
}

} // namespace viommu::system::truth
