// The qtest client against a scripted peer: the replies QEMU would send (softmmu/qtest.c, QEMU v7.2.0),
// and the malformed ones it must refuse.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "system/qemu/base64.h"
#include "system/qemu/qtest_client.h"

using namespace viommu;
using namespace viommu::system::qemu;

namespace {

// A client on one end of a socket pair; the test plays QEMU on the other end. Replies are written
// before the request is made: the socket buffers them.
struct ScriptedPeer {
    ScriptedPeer()
    {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        peer = fds[1];
        client.emplace(fds[0], std::chrono::milliseconds(200));
    }
    ~ScriptedPeer() { close(peer); }
    void reply(const std::string& text) { REQUIRE(::write(peer, text.data(), text.size()) == ssize_t(text.size())); }
    // What the client sent so far.
    std::string requests()
    {
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = recv(peer, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
    int peer = -1;
    std::optional<QtestClient> client;
};

} // namespace

TEST_CASE("requests are the protocol's lines, with hex numbers", "[unit][qtest]")
{
    ScriptedPeer qemu;
    qemu.reply("OK\nOK 0x10571af4\nOK\nOK 0x00000000000000ab\n");
    CHECK(qemu.client->out(0xcf8, 4, 0x80001000));
    CHECK(*qemu.client->in(0xcfc, 4) == 0x10571af4);
    CHECK(qemu.client->write(0xc0000014, 1, 0x0b));
    CHECK(*qemu.client->read(0x1000, 8) == 0xab);
    CHECK(qemu.requests() == "outl 0xcf8 0x80001000\ninl 0xcfc\nwriteb 0xc0000014 0xb\nreadq 0x1000\n");
}

TEST_CASE("IRQ lines that arrive before a reply set the line levels and the reply still counts",
          "[unit][qtest]")
{
    ScriptedPeer qemu;
    qemu.reply("IRQ raise 22\nIRQ raise 3\nIRQ lower 3\nOK\n");
    CHECK(qemu.client->write(0xc0003000, 2, 0));
    CHECK(qemu.client->irq_level(22));
    CHECK_FALSE(qemu.client->irq_level(3));
    CHECK(qemu.client->irq_events() == 3);
    qemu.reply("IRQ lower 22\n");
    CHECK(*qemu.client->take_pending_events());
    CHECK_FALSE(qemu.client->irq_level(22));
    CHECK_FALSE(*qemu.client->take_pending_events());
}

TEST_CASE("a FAIL or ERR reply is an error that names the request", "[unit][qtest]")
{
    ScriptedPeer qemu;
    qemu.reply("FAIL Unknown device\n");
    auto result = qemu.client->irq_intercept_in("nosuchdevice");
    REQUIRE_FALSE(result);
    CHECK_THAT(result.error(), Catch::Contains("irq_intercept_in nosuchdevice") && Catch::Contains("FAIL Unknown device"));
    ScriptedPeer other;
    other.reply("ERR invalid argument size\n");
    const uint8_t bytes[] = {1, 2, 3};
    CHECK_FALSE(other.client->write_bytes(0x1000, bytes));
}

TEST_CASE("a value reply must have the digits QEMU prints and fit the access", "[unit][qtest]")
{
    const char* malformed[] = {
        "OK 0x00ab\n",                 // readb's value has 16 digits
        "OK 0x00000000000001ab\n",     // does not fit a byte
        "OK 0x00000000000000AB\n",     // QEMU prints lower case
        "OK 00000000000000ab0\n",      // no 0x
        "OK 0x00000000000000ag\n",     // not hex
        "OK\n",                        // no value
        "OKAY 0x00000000000000ab\n",   // not OK
        "IRQ raise 256\n",             // MAX_IRQ is 256
        "IRQ raise 022\n",             // "%d" prints no leading zero
    };
    for (const char* reply : malformed) {
        ScriptedPeer qemu;
        qemu.reply(reply);
        INFO(reply);
        CHECK_FALSE(qemu.client->read(0x1000, 1));
    }
    ScriptedPeer in;
    in.reply("OK 0x1ff\n"); // inb: "%04x" has at least 4 digits
    CHECK_FALSE(in.client->in(0x60, 1));
}

TEST_CASE("the first error sticks: every later request fails with it", "[unit][qtest]")
{
    ScriptedPeer qemu;
    qemu.reply("garbage\nOK\n");
    auto first = qemu.client->write(0x1000, 4, 1);
    REQUIRE_FALSE(first);
    auto second = qemu.client->write(0x1000, 4, 1);
    REQUIRE_FALSE(second);
    CHECK(second.error() == first.error());
    CHECK(qemu.client->failure());
}

TEST_CASE("no reply within the timeout, or a closed connection, is an error, never a hang", "[unit][qtest]")
{
    ScriptedPeer silent;
    auto timed_out = silent.client->read(0x1000, 4);
    REQUIRE_FALSE(timed_out);
    CHECK_THAT(timed_out.error(), Catch::Contains("no reply from QEMU within 200 ms"));
    ScriptedPeer closed;
    close(closed.peer);
    closed.peer = -1;
    auto eof = closed.client->read(0x1000, 4);
    REQUIRE_FALSE(eof);
    CHECK_THAT(eof.error(), Catch::Contains("readl 0x1000"));
}

TEST_CASE("requests QEMU would abort on are refused before they are sent", "[unit][qtest]")
{
    ScriptedPeer qemu;
    CHECK_FALSE(qemu.client->out(0x80, 1, 0x100)); // does not fit the port access
    CHECK_FALSE(qemu.client->read(0x1000, 3));
    CHECK_FALSE(qemu.client->irq_intercept_in("ioapic extra"));
    CHECK(qemu.client->read_bytes(0x1000, 0)->empty()); // QEMU asserts on "read" of 0 bytes
    CHECK(qemu.requests().empty());
    CHECK_FALSE(qemu.client->failure());
}

TEST_CASE("traffic counts each request sent as one round trip and the time its reply was awaited",
          "[unit][qtest]")
{
    ScriptedPeer qemu;
    qemu.reply("IRQ raise 22\nOK\nOK 0x0000000000000001\n");
    REQUIRE(qemu.client->write(0xc0003000, 2, 0));
    REQUIRE(qemu.client->read(0x1000, 8));
    CHECK(qemu.client->traffic().requests == 2); // the IRQ line ahead of a reply is no request
    CHECK_FALSE(qemu.client->read(0x1000, 3));   // refused before it is sent
    CHECK(qemu.client->read_bytes(0x1000, 0)->empty());
    qemu.reply("IRQ lower 22\n");
    CHECK(*qemu.client->take_pending_events()); // reads what QEMU sent, asks nothing
    CHECK(qemu.client->traffic().requests == 2);

    const auto before = qemu.client->traffic().awaiting_replies;
    (void)qemu.requests(); // what was sent so far: the peer's next read is the request below
    ssize_t got = 0, written = 0; // Catch's assertions are not for other threads: checked after the join
    std::thread late_reply([&] {
        // Replies 30 ms after the request arrived, so after the client started waiting, however late
        // this thread or the client is scheduled.
        pollfd arrived{qemu.peer, POLLIN, 0};
        char buf[64];
        if (::poll(&arrived, 1, 2000) == 1)
            got = ::read(qemu.peer, buf, sizeof buf);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        written = ::write(qemu.peer, "OK\n", 3);
    });
    CHECK(qemu.client->write(0x1000, 4, 1));
    late_reply.join();
    REQUIRE(got > 0);
    REQUIRE(written == 3);
    CHECK(qemu.client->traffic().requests == 3);
    CHECK(qemu.client->traffic().awaiting_replies - before >= std::chrono::milliseconds(30));
}

TEST_CASE("read and b64read replies carry exactly the bytes asked for", "[unit][qtest]")
{
    ScriptedPeer qemu;
    qemu.reply("OK 0x77000001\nOK dwAAAQ==\n");
    CHECK(*qemu.client->read_bytes(0x2000, 4) == std::vector<uint8_t>{0x77, 0, 0, 1});
    CHECK(*qemu.client->b64read(0x2000, 4) == std::vector<uint8_t>{0x77, 0, 0, 1});
    ScriptedPeer short_reply;
    short_reply.reply("OK 0x7700\n");
    CHECK_FALSE(short_reply.client->read_bytes(0x2000, 4));
    ScriptedPeer short_b64;
    short_b64.reply("OK dwAA\n");
    CHECK_FALSE(short_b64.client->b64read(0x2000, 4));
}

TEST_CASE("base64 is RFC 4648's with padding, and only its canonical form decodes", "[unit][qtest]")
{
    const std::vector<uint8_t> bytes{0x77, 0, 0, 1, 0xff};
    CHECK(base64_encode(bytes) == "dwAAAf8=");
    CHECK(*base64_decode("dwAAAf8=") == bytes);
    CHECK(base64_decode("")->empty());
    CHECK_FALSE(base64_decode("dwAAAf8"));   // not a multiple of 4
    CHECK_FALSE(base64_decode("dwAAAf9="));  // unused bits set
    CHECK_FALSE(base64_decode("dw=AAf8="));  // padding inside
    CHECK_FALSE(base64_decode("dwA=Af8="));  // padding before the last group
    CHECK_FALSE(base64_decode("dwAA*f8="));  // outside the alphabet
}
