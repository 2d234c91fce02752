// A cpio archive in the "newc" format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst), written with fixed owners and times so
// that the same files give the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace viommu::system::truth {

class CpioWriter {
public:
    void directory(std::string_view path);
    void file(std::string_view path, std::string_view data, bool executable);
    void symlink(std::string_view path, std::string_view target);
    void char_device(std::string_view path, unsigned major, unsigned minor);
    // The archive with its TRAILER!!! entry.
    std::string finish();

private:
    void entry(std::string_view path, uint32_t mode, std::string_view data, unsigned rmajor = 0, unsigned rminor = 0);
    std::string out_;
    uint32_t ino_ = 1;
};

} // namespace viommu::system::truth
