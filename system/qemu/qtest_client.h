// The client side of QEMU's qtest protocol (QEMU v7.2.0, softmmu/qtest.c, "QTest Protocol"): one text
// line per request, one reply line per request ("OK", "OK VALUE", "FAIL ..." or "ERR ..."), and
// asynchronous "IRQ raise N" / "IRQ lower N" lines, for lines intercepted with irq_intercept_in/out, that
// may arrive before any reply.
//
// QEMU parses requests with g_assert(): a request with a missing or malformed argument aborts QEMU (a
// "read" of 0 bytes too). So every request is built here from checked values and never from caller
// text, except the QOM path of irq_intercept_in/out, which is checked for spaces and newlines.
//
// Replies are parsed strictly: the value of inb/inw/inl is "0x" and at least 4 hex digits ("%04x"),
// that of readb..readq "0x" and exactly 16 ("%016" PRIx64), and it must fit the access size; "read"
// answers "0x" and two hex digits per byte, b64read the canonical base64 of the bytes. Anything else,
// an unexpected line, a closed socket or no reply within the timeout is an error, and the first error
// sticks: the stream's state is then unknown, so every later request fails with it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"

namespace viommu::system::qemu {

class QtestClient {
public:
    // Takes a connected stream socket. Each request waits at most reply_timeout for its reply.
    QtestClient(int socket_fd, std::chrono::milliseconds reply_timeout);
    QtestClient(const QtestClient&) = delete;
    QtestClient& operator=(const QtestClient&) = delete;
    ~QtestClient();

    // What an error adds about the other side (QEMU's stderr and exit status); asked only on failure.
    void set_error_context(std::function<std::string()> context) { context_ = std::move(context); }
    void set_reply_timeout(std::chrono::milliseconds timeout) { reply_timeout_ = timeout; }
    // An fd polled with the socket while a reply is awaited (QEMU's output pipe): fd() names it, -1 for
    // none, asked before each poll since its owner may close it; on_readable runs when it has data or
    // has ended. Draining it there keeps QEMU from blocking on a full pipe in the middle of a request.
    void set_side_channel(std::function<int()> fd, std::function<void()> on_readable)
    {
        side_fd_ = std::move(fd);
        on_side_readable_ = std::move(on_readable);
    }

    // Port I/O: size 1, 2 or 4 (outb/outw/outl, inb/inw/inl).
    Expected<void, std::string> out(uint16_t port, unsigned size, uint32_t value);
    Expected<uint32_t, std::string> in(uint16_t port, unsigned size);
    // A memory access through the first CPU's address space (RAM and MMIO): size 1, 2, 4 or 8
    // (writeb..writeq, readb..readq), little-endian as the x86 target is.
    Expected<void, std::string> write(uint64_t addr, unsigned size, uint64_t value);
    Expected<uint64_t, std::string> read(uint64_t addr, unsigned size);
    // Byte strings: "read"/"write" carry hex, "b64read"/"b64write" base64. An empty range sends nothing.
    Expected<std::vector<uint8_t>, std::string> read_bytes(uint64_t addr, uint64_t len);
    Expected<void, std::string> write_bytes(uint64_t addr, std::span<const uint8_t> bytes);
    Expected<std::vector<uint8_t>, std::string> b64read(uint64_t addr, uint64_t len);
    Expected<void, std::string> b64write(uint64_t addr, std::span<const uint8_t> bytes);
    // Reports the levels of a device's unnamed gpio-in (resp. gpio-out) lines as IRQ lines; for q35
    // "ioapic" gives the I/O APIC's 24 inputs (GSIs). QEMU intercepts one device per run.
    Expected<void, std::string> irq_intercept_in(std::string_view qom_path);
    Expected<void, std::string> irq_intercept_out(std::string_view qom_path);
    // "little" or "big": the target's byte order.
    Expected<std::string, std::string> endianness();

    // Reads the asynchronous lines QEMU has already sent, without waiting; whether any arrived.
    Expected<bool, std::string> take_pending_events();
    // The level of intercepted line n as last reported (QEMU numbers them below 256, MAX_IRQ).
    static constexpr unsigned kMaxIrq = 256;
    bool irq_level(unsigned n) const { return n < kMaxIrq && irq_levels_[n]; }
    // How many IRQ lines arrived so far.
    uint64_t irq_events() const { return irq_events_; }

    const std::optional<std::string>& failure() const { return failure_; }

    // Every request is one round trip on the socket: sent, then its reply awaited. What a caller spends
    // on QEMU (both crossings of the socket, QEMU's wake-up and its work on the request) is the time
    // awaited; the rest of the caller's time is its own code.
    struct Traffic {
        uint64_t requests = 0;
        std::chrono::nanoseconds awaiting_replies{0}; // from each request's send until its reply was read
    };
    const Traffic& traffic() const { return traffic_; }

private:
    // Sends line, returns the reply's text after "OK" (empty for a bare "OK").
    Expected<std::string, std::string> request(const std::string& line);
    // request() without the accounting in traffic_.
    Expected<std::string, std::string> exchange(const std::string& line);
    Expected<std::string, std::string> read_line(std::chrono::steady_clock::time_point deadline);
    // An "IRQ raise N" / "IRQ lower N" line: applied; false for any other line.
    bool apply_irq_line(std::string_view line);
    Expected<void, std::string> expect_bare_ok(const std::string& line);
    // A reply "0x" and digits_min..digits_max hex digits whose value fits size bytes.
    Expected<uint64_t, std::string> value_request(const std::string& line, std::size_t digits_min,
                                                  std::size_t digits_max, unsigned size);
    Expected<void, std::string> intercept(std::string_view command, std::string_view qom_path);
    Unexpected<std::string> fail(std::string message);

    int fd_;
    std::chrono::milliseconds reply_timeout_;
    std::string inbuf_;
    std::function<std::string()> context_;
    std::function<int()> side_fd_;
    std::function<void()> on_side_readable_;
    std::optional<std::string> failure_;
    std::array<bool, kMaxIrq> irq_levels_{};
    uint64_t irq_events_ = 0;
    Traffic traffic_;
};

} // namespace viommu::system::qemu
