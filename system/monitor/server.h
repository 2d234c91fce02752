// viommu's QMP monitor on a unix socket (QEMU's -qmp unix:PATH,server=on,wait=off), on Boost.Asio: one
// client at a time, as QEMU's socket chardev serves one; the next connection is accepted when the
// current client goes away, and gets its own greeting and negotiation. Everything runs on the
// io_context's thread, so commands execute one at a time and a client that vanishes mid-request
// leaves nothing half done.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "base/expected.h"
#include "system/boot/live_guest.h"
#include "system/monitor/command_table.h"
#include "system/monitor/event.h"
#include "system/monitor/session.h"

namespace viommu::system::monitor {

// --qmp's argument: "unix:PATH" is the one form served; "tcp:..." and the others are not supported.
Expected<std::string, std::string> parse_qmp_address(const std::string& text);

// Serves guest's monitor at path until a client sends quit; throws std::runtime_error when it cannot
// listen there.
void serve_guest(boot::LiveGuest& guest, const std::string& path, const nlohmann::ordered_json& version);

class Server {
public:
    // Binds and listens at path; a stale socket there is replaced, anything else is an error
    // (std::runtime_error with what is wrong).
    Server(boost::asio::io_context& io, std::string path, const CommandTable& commands, nlohmann::ordered_json version,
           JsonLimits limits = {});
    ~Server();

    // An event for the connected client, if any (QEMU drops events no monitor takes).
    void emit(const Event& event);
    // After the current answer and events are written: close, stop accepting, and let the loop end.
    void shut_down();

private:
    void accept();
    void serve(boost::asio::local::stream_protocol::socket socket);
    void read();
    void send(std::string line);
    void write_next();
    void disconnect();

    std::string path_;
    const CommandTable& commands_;
    nlohmann::ordered_json version_;
    JsonLimits limits_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::optional<boost::asio::local::stream_protocol::socket> client_;
    std::unique_ptr<Session> session_;
    std::deque<std::string> outbox_;
    bool writing_ = false;
    bool reading_ = false;
    bool shutting_down_ = false;
    char buffer_[4096];
};

} // namespace viommu::system::monitor
