#include <catch2/catch.hpp>

#include <array>

#include <sys/mman.h>
#include <unistd.h>

#include "virtio/guest_memory.h"

using namespace viommu;
using viommu::virtio::GuestMemory;

TEST_CASE("guest memory refuses empty, overlapping and wrapping regions", "[unit][guest-memory]")
{
    CHECK_FALSE(GuestMemory::create({}));
    CHECK_FALSE(GuestMemory::create({{GuestAddr(0), 0}}));
    CHECK_FALSE(GuestMemory::create({{GuestAddr(0), 0x2000}, {GuestAddr(0x1000), 0x1000}}));
    CHECK_FALSE(GuestMemory::create({{GuestAddr(UINT64_MAX - 0xfff), 0x2000}}));
    CHECK(GuestMemory::create({{GuestAddr(UINT64_MAX - 0xfff), 0x1000}}));
}

TEST_CASE("an access outside RAM fails and copies nothing", "[unit][guest-memory]")
{
    auto mem = GuestMemory::create({{GuestAddr(0x1000), 0x1000}});
    REQUIRE(mem);
    std::array<uint8_t, 16> buf{};
    buf.fill(0xab);
    CHECK_FALSE(mem->write(GuestAddr(0x1ff8), buf)); // crosses the end
    CHECK(*mem->read_obj<uint64_t>(GuestAddr(0x1ff8)) == 0);
    CHECK_FALSE(mem->read(GuestAddr(0xff8), buf));    // starts below
    CHECK_FALSE(mem->slice(GuestAddr(0x1000), 0x1001));
    CHECK(mem->slice(GuestAddr(0x1000), 0x1000));
}

TEST_CASE("an access whose end wraps past 2^64 is an error, not a wrap", "[unit][guest-memory]")
{
    auto mem = GuestMemory::create({{GuestAddr(0), 0x1000}, {GuestAddr(UINT64_MAX - 0xfff), 0x1000}});
    REQUIRE(mem);
    std::array<uint8_t, 32> buf{};
    CHECK_FALSE(mem->read(GuestAddr(UINT64_MAX - 15), buf));
    CHECK_FALSE(mem->contains(GuestAddr(UINT64_MAX), 2));
    CHECK(mem->contains(GuestAddr(UINT64_MAX), 1));
    CHECK_FALSE(mem->slice(GuestAddr(UINT64_MAX - 15), 32));
}

TEST_CASE("reads and writes cross adjacent regions", "[unit][guest-memory]")
{
    auto mem = GuestMemory::create({{GuestAddr(0x1000), 0x1000}, {GuestAddr(0x2000), 0x1000}});
    REQUIRE(mem);
    REQUIRE(mem->write_obj(GuestAddr(0x1ffc), uint64_t{0x1122334455667788}));
    CHECK(*mem->read_obj<uint64_t>(GuestAddr(0x1ffc)) == 0x1122334455667788);
    CHECK(*mem->read_obj<uint32_t>(GuestAddr(0x2000)) == 0x11223344);
    CHECK_FALSE(mem->slice(GuestAddr(0x1ffc), 8)); // a slice stays inside one region
    CHECK(mem->host_region(GuestAddr(0x1ffc))->base == 0x1000);
    CHECK(mem->host_region(GuestAddr(0x2000))->size == 0x1000);
    CHECK_FALSE(mem->host_region(GuestAddr(0x3000)));
    CHECK(mem->total_size() == 0x2000);
}

TEST_CASE("an empty access succeeds inside RAM and fails outside it", "[unit][guest-memory]")
{
    auto mem = GuestMemory::create({{GuestAddr(0x1000), 0x1000}});
    REQUIRE(mem);
    const std::span<uint8_t> none; // data() is null: nothing may be copied through it
    CHECK(mem->read(GuestAddr(0x1000), none));
    CHECK(mem->write(GuestAddr(0x1fff), std::span<const uint8_t>()));
    CHECK(mem->slice(GuestAddr(0x1800), 0));
    CHECK_FALSE(mem->read(GuestAddr(0x2000), none)); // one past the end is not RAM
    CHECK_FALSE(mem->write(GuestAddr(0xfff), std::span<const uint8_t>()));
    CHECK_FALSE(mem->slice(GuestAddr(0x2000), 0));
}

namespace {

// A memfd of size bytes, closed at scope exit.
struct MemFd {
    explicit MemFd(uint64_t size) : fd(memfd_create("guest-ram-test", MFD_CLOEXEC))
    {
        REQUIRE(fd >= 0);
        REQUIRE(ftruncate(fd, static_cast<off_t>(size)) == 0);
    }
    ~MemFd() { close(fd); }
    int fd;
};

} // namespace

TEST_CASE("shared guest memory is the file's bytes at each region's offset", "[unit][guest-memory]")
{
    MemFd file(0x4000);
    auto mem = GuestMemory::create_shared(file.fd, {{{GuestAddr(0x10000), 0x1000}, 0x2000},
                                                    {{GuestAddr(0), 0x1000}, 0}});
    REQUIRE(mem);
    const uint32_t word = 0x11223344;
    REQUIRE(mem->write_obj(GuestAddr(0x10004), word));
    uint32_t in_file = 0;
    REQUIRE(pread(file.fd, &in_file, sizeof in_file, 0x2004) == sizeof in_file);
    CHECK(in_file == word);
    const uint8_t byte = 0x5a;
    REQUIRE(pwrite(file.fd, &byte, 1, 0x0ff0) == 1);
    CHECK(*mem->read_obj<uint8_t>(GuestAddr(0x0ff0)) == byte);
    CHECK_FALSE(mem->contains(GuestAddr(0x1000), 1)); // the gap between regions stays outside RAM
}

TEST_CASE("shared guest memory refuses regions past the file's end or at unaligned offsets",
          "[unit][guest-memory]")
{
    MemFd file(0x2000);
    CHECK_FALSE(GuestMemory::create_shared(file.fd, {{{GuestAddr(0), 0x1000}, 0x1800}}));
    CHECK_FALSE(GuestMemory::create_shared(file.fd, {{{GuestAddr(0), 0x1000}, 0x10}}));
    CHECK_FALSE(GuestMemory::create_shared(file.fd, {{{GuestAddr(0), 0x1000}, UINT64_MAX & ~0xfffull}}));
    CHECK_FALSE(GuestMemory::create_shared(file.fd, {{{GuestAddr(0), 0x2000}, 0}, {{GuestAddr(0x1000), 0x1000}, 0}}));
    CHECK_FALSE(GuestMemory::create_shared(-1, {{{GuestAddr(0), 0x1000}, 0}}));
    CHECK(GuestMemory::create_shared(file.fd, {{{GuestAddr(0), 0x1000}, 0x1000}}));
}
