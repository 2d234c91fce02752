#include "system/qemu/qtest_client.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "system/qemu/base64.h"

namespace viommu::system::qemu {

namespace {

bool valid_size(unsigned size, unsigned max)
{
    return size == 1 || size == 2 || size == 4 || (size == 8 && max >= 8);
}

char size_letter(unsigned size)
{
    switch (size) {
    case 1: return 'b';
    case 2: return 'w';
    case 4: return 'l';
    default: return 'q';
    }
}

uint64_t max_value(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (uint64_t{1} << (8 * size)) - 1;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; // QEMU prints lower case (%x, PRIx64, %02x)
}

// "0x" and between min_digits and max_digits lower-case hex digits, as a number; nullopt otherwise.
std::optional<uint64_t> parse_hex(std::string_view text, std::size_t min_digits, std::size_t max_digits)
{
    if (text.size() < 2 || text.substr(0, 2) != "0x")
        return std::nullopt;
    std::string_view digits = text.substr(2);
    if (digits.size() < min_digits || digits.size() > max_digits)
        return std::nullopt;
    uint64_t value = 0;
    for (char c : digits) {
        const int d = hex_digit(c);
        if (d < 0 || value > (UINT64_MAX >> 4))
            return std::nullopt;
        value = value << 4 | static_cast<uint64_t>(d);
    }
    return value;
}

} // namespace

QtestClient::QtestClient(int socket_fd, std::chrono::milliseconds reply_timeout)
    : fd_(socket_fd), reply_timeout_(reply_timeout)
{
}

QtestClient::~QtestClient()
{
    if (fd_ >= 0)
        close(fd_);
}

Unexpected<std::string> QtestClient::fail(std::string message)
{
    if (!failure_) {
        if (context_)
            message += context_();
        failure_ = message;
    }
    return unexpected(*failure_);
}

Expected<std::string, std::string> QtestClient::read_line(std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        if (const auto end = inbuf_.find('\n'); end != std::string::npos) {
            std::string line = inbuf_.substr(0, end);
            inbuf_.erase(0, end + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return unexpected(fmt::format("no reply from QEMU within {} ms", reply_timeout_.count()));
        const int side = side_fd_ ? side_fd_() : -1;
        pollfd p[2] = {{fd_, POLLIN, 0}, {side, POLLIN, 0}};
        const int ready = poll(p, side >= 0 ? 2 : 1, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR)
            return unexpected(fmt::format("poll on the qtest socket: {}", std::strerror(errno)));
        if (ready <= 0)
            continue;
        if (side >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            on_side_readable_();
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        char buf[4096];
        const ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n == 0)
            return unexpected(std::string("QEMU closed the qtest connection"));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return unexpected(fmt::format("reading the qtest socket: {}", std::strerror(errno)));
        }
        inbuf_.append(buf, static_cast<std::size_t>(n));
    }
}

bool QtestClient::apply_irq_line(std::string_view line)
{
    bool raise = false;
    if (line.starts_with("IRQ raise "))
        raise = true;
    else if (!line.starts_with("IRQ lower "))
        return false;
    // NUM is printed with "%d" from a line number below MAX_IRQ.
    const std::string_view digits = line.substr(10);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0'))
        return false;
    unsigned n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return false;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    if (n >= kMaxIrq)
        return false;
    irq_levels_[n] = raise;
    ++irq_events_;
    return true;
}

Expected<std::string, std::string> QtestClient::request(const std::string& line)
{
    if (failure_)
        return unexpected(*failure_);
    const auto sent_at = std::chrono::steady_clock::now();
    ++traffic_.requests;
    auto reply = exchange(line);
    traffic_.awaiting_replies += std::chrono::steady_clock::now() - sent_at;
    return reply;
}

Expected<std::string, std::string> QtestClient::exchange(const std::string& line)
{
    const std::string out = line + '\n';
    std::size_t sent = 0;
    while (sent < out.size()) {
        const ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(fmt::format("qtest \"{}\": cannot send: {}", line, std::strerror(errno)));
        sent += static_cast<std::size_t>(n);
    }
    const auto deadline = std::chrono::steady_clock::now() + reply_timeout_;
    for (;;) {
        auto reply = read_line(deadline);
        if (!reply)
            return fail(fmt::format("qtest \"{}\": {}", line, reply.error()));
        if (apply_irq_line(*reply))
            continue;
        if (*reply == "OK")
            return std::string();
        if (reply->starts_with("OK "))
            return reply->substr(3);
        if (reply->starts_with("FAIL") || reply->starts_with("ERR"))
            return fail(fmt::format("qtest \"{}\": QEMU answered \"{}\"", line, *reply));
        return fail(fmt::format("qtest \"{}\": unexpected reply \"{}\"", line, *reply));
    }
}

Expected<void, std::string> QtestClient::expect_bare_ok(const std::string& line)
{
    auto reply = request(line);
    if (!reply)
        return unexpected(reply.error());
    if (!reply->empty())
        return fail(fmt::format("qtest \"{}\": expected \"OK\", got \"OK {}\"", line, *reply));
    return {};
}

Expected<void, std::string> QtestClient::out(uint16_t port, unsigned size, uint32_t value)
{
    if (!valid_size(size, 4) || value > max_value(size))
        return unexpected(fmt::format("qtest out: {} does not fit a {}-byte port access", value, size));
    return expect_bare_ok(fmt::format("out{} {:#x} {:#x}", size_letter(size), port, value));
}

Expected<uint64_t, std::string> QtestClient::value_request(const std::string& line, std::size_t digits_min,
                                                            std::size_t digits_max, unsigned size)
{
    auto reply = request(line);
    if (!reply)
        return unexpected(reply.error());
    const auto value = parse_hex(*reply, digits_min, digits_max);
    if (!value || *value > max_value(size))
        return fail(fmt::format("qtest \"{}\": malformed value \"{}\"", line, *reply));
    return *value;
}

Expected<uint32_t, std::string> QtestClient::in(uint16_t port, unsigned size)
{
    if (!valid_size(size, 4))
        return unexpected(fmt::format("qtest in: a port access of {} bytes", size));
    // "OK 0x%04x"
    auto value = value_request(fmt::format("in{} {:#x}", size_letter(size), port), 4, 8, size);
    if (!value)
        return unexpected(value.error());
    return static_cast<uint32_t>(*value);
}

Expected<void, std::string> QtestClient::write(uint64_t addr, unsigned size, uint64_t value)
{
    if (!valid_size(size, 8) || value > max_value(size))
        return unexpected(fmt::format("qtest write: {:#x} does not fit a {}-byte access", value, size));
    return expect_bare_ok(fmt::format("write{} {:#x} {:#x}", size_letter(size), addr, value));
}

Expected<uint64_t, std::string> QtestClient::read(uint64_t addr, unsigned size)
{
    if (!valid_size(size, 8))
        return unexpected(fmt::format("qtest read: an access of {} bytes", size));
    // "OK 0x%016" PRIx64
    return value_request(fmt::format("read{} {:#x}", size_letter(size), addr), 16, 16, size);
}

Expected<std::vector<uint8_t>, std::string> QtestClient::read_bytes(uint64_t addr, uint64_t len)
{
    if (len == 0) // QEMU asserts len != 0 for "read"
        return std::vector<uint8_t>();
    const std::string line = fmt::format("read {:#x} {:#x}", addr, len);
    auto reply = request(line);
    if (!reply)
        return unexpected(reply.error());
    const std::string_view text = *reply;
    if (!text.starts_with("0x") || (text.size() - 2) / 2 != len || text.size() % 2 != 0)
        return fail(fmt::format("qtest \"{}\": expected 0x and {} hex digits, got \"{}\"", line, 2 * len, text));
    std::vector<uint8_t> bytes(len);
    for (uint64_t i = 0; i < len; ++i) {
        const int hi = hex_digit(text[2 + 2 * i]);
        const int lo = hex_digit(text[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return fail(fmt::format("qtest \"{}\": malformed hex \"{}\"", line, text));
        bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return bytes;
}

Expected<void, std::string> QtestClient::write_bytes(uint64_t addr, std::span<const uint8_t> bytes)
{
    if (bytes.empty())
        return {};
    std::string hex;
    hex.reserve(2 * bytes.size());
    for (uint8_t b : bytes)
        fmt::format_to(std::back_inserter(hex), "{:02x}", b);
    return expect_bare_ok(fmt::format("write {:#x} {:#x} 0x{}", addr, bytes.size(), hex));
}

Expected<std::vector<uint8_t>, std::string> QtestClient::b64read(uint64_t addr, uint64_t len)
{
    if (len == 0)
        return std::vector<uint8_t>();
    const std::string line = fmt::format("b64read {:#x} {:#x}", addr, len);
    auto reply = request(line);
    if (!reply)
        return unexpected(reply.error());
    auto bytes = base64_decode(*reply);
    if (!bytes || bytes->size() != len)
        return fail(fmt::format("qtest \"{}\": expected the base64 of {} bytes, got \"{}\"", line, len, *reply));
    return std::move(*bytes);
}

Expected<void, std::string> QtestClient::b64write(uint64_t addr, std::span<const uint8_t> bytes)
{
    if (bytes.empty()) // QEMU answers ERR to data shorter than 3 characters
        return {};
    return expect_bare_ok(fmt::format("b64write {:#x} {:#x} {}", addr, bytes.size(), base64_encode(bytes)));
}

Expected<void, std::string> QtestClient::intercept(std::string_view command, std::string_view qom_path)
{
    if (qom_path.empty() || qom_path.find_first_of(" \n\r") != std::string_view::npos)
        return unexpected(fmt::format("qtest {}: \"{}\" is not a QOM path", command, qom_path));
    return expect_bare_ok(fmt::format("{} {}", command, qom_path));
}

Expected<void, std::string> QtestClient::irq_intercept_in(std::string_view qom_path)
{
    return intercept("irq_intercept_in", qom_path);
}

Expected<void, std::string> QtestClient::irq_intercept_out(std::string_view qom_path)
{
    return intercept("irq_intercept_out", qom_path);
}

Expected<std::string, std::string> QtestClient::endianness()
{
    auto reply = request("endianness");
    if (!reply)
        return unexpected(reply.error());
    if (*reply != "little" && *reply != "big")
        return fail(fmt::format("qtest \"endianness\": unexpected value \"{}\"", *reply));
    return std::move(*reply);
}

Expected<bool, std::string> QtestClient::take_pending_events()
{
    if (failure_)
        return unexpected(*failure_);
    const uint64_t before = irq_events_;
    for (;;) {
        pollfd p{fd_, POLLIN, 0};
        const int ready = poll(&p, 1, 0);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0 && inbuf_.find('\n') == std::string::npos)
            break;
        auto line = read_line(std::chrono::steady_clock::now() + reply_timeout_);
        if (!line)
            return fail("qtest: reading asynchronous lines: " + line.error());
        if (!apply_irq_line(*line))
            return fail(fmt::format("qtest: unexpected line \"{}\" with no request outstanding", *line));
    }
    return irq_events_ != before;
}

} // namespace viommu::system::qemu
