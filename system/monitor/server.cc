#include "system/monitor/server.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdexcept>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "system/monitor/guest_commands.h"

namespace viommu::system::monitor {

using boost::asio::local::stream_protocol;

Expected<std::string, std::string> parse_qmp_address(const std::string& text)
{
    constexpr std::string_view kUnix = "unix:";
    if (text.rfind(kUnix, 0) == 0) {
        std::string path = text.substr(kUnix.size());
        // QEMU's options after the path (",server=on,wait=off") are what viommu does anyway.
        if (const auto comma = path.find(','); comma != std::string::npos)
            path.resize(comma);
        if (path.empty())
            return unexpected(std::string("--qmp unix: needs a socket path (unix:PATH)"));
        if (path.size() >= sizeof(sockaddr_un::sun_path))
            return unexpected(fmt::format("--qmp {}: the socket path is longer than a unix socket address takes ({} bytes)",
                                          text, sizeof(sockaddr_un::sun_path) - 1));
        return path;
    }
    const auto colon = text.find(':');
    const std::string kind = colon == std::string::npos ? text : text.substr(0, colon);
    return unexpected(fmt::format("--qmp {}: '{}' is not supported; viommu's monitor listens on unix:PATH only", text, kind));
}

namespace {

// A stale socket from an earlier run is replaced (QEMU unlinks the path before bind()); a regular
// file or anything else is never removed.
void clear_stale_socket(const std::string& path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return;
    if (!S_ISSOCK(st.st_mode))
        throw std::runtime_error(fmt::format("{} exists and is not a socket", path));
    ::unlink(path.c_str());
}

} // namespace

Server::Server(boost::asio::io_context& io, std::string path, const CommandTable& commands,
               nlohmann::ordered_json version, JsonLimits limits)
    : path_(std::move(path)), commands_(commands), version_(std::move(version)), limits_(limits), acceptor_(io)
{
    clear_stale_socket(path_);
    boost::system::error_code ec;
    acceptor_.open(stream_protocol(), ec);
    if (!ec)
        acceptor_.bind(stream_protocol::endpoint(path_), ec);
    if (!ec)
        acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error(fmt::format("cannot listen on {}: {}", path_, ec.message()));
    accept();
}

Server::~Server()
{
    boost::system::error_code ec;
    acceptor_.close(ec);
    ::unlink(path_.c_str());
}

void Server::accept()
{
    acceptor_.async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
        if (ec || shutting_down_)
            return;
        serve(std::move(socket));
    });
}

void Server::serve(stream_protocol::socket socket)
{
    client_.emplace(std::move(socket));
    session_ = std::make_unique<Session>(commands_, version_, [this](std::string line) { send(std::move(line)); }, limits_);
    session_->open();
    read();
}

void Server::read()
{
    reading_ = true;
    client_->async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
        reading_ = false;
        if (!client_)
            return;
        if (ec) {
            disconnect();
            return;
        }
        session_->receive(std::string_view(buffer_, n));
        // The client's next bytes are read once its answers are written (QEMU suspends the monitor
        // while a request is in flight): a client that sends without reading cannot pile answers up.
        if (!shutting_down_ && !writing_)
            read();
    });
}

void Server::shut_down()
{
    shutting_down_ = true;
    if (session_)
        session_->halt();
}

void Server::emit(const Event& event)
{
    if (session_)
        session_->event(event);
}

void Server::send(std::string line)
{
    outbox_.push_back(std::move(line));
    if (!writing_)
        write_next();
}

void Server::write_next()
{
    if (outbox_.empty() || !client_) {
        writing_ = false;
        if (shutting_down_) {
            disconnect();
            acceptor_.close();
        } else if (client_ && !reading_) {
            read();
        }
        return;
    }
    writing_ = true;
    boost::asio::async_write(*client_, boost::asio::buffer(outbox_.front()), [this](boost::system::error_code ec, std::size_t) {
        if (ec) {
            outbox_.clear();
            writing_ = false;
            disconnect();
            return;
        }
        outbox_.pop_front();
        write_next();
    });
}

void Server::disconnect()
{
    if (!client_)
        return;
    // CHR_EVENT_CLOSED: a half-received request is dropped, the session ends; the next client gets a
    // fresh one.
    session_->close();
    boost::system::error_code ec;
    client_->close(ec);
    client_.reset();
    session_.reset();
    outbox_.clear();
    writing_ = false;
    reading_ = false;
    if (shutting_down_)
        acceptor_.close(ec);
    else
        accept();
}

void serve_guest(boot::LiveGuest& guest, const std::string& path, const nlohmann::ordered_json& version)
{
    boost::asio::io_context io;
    CommandTable table;
    std::unique_ptr<Server> server;
    add_guest_commands(table, guest, version,
                       {[&server](const Event& e) { server->emit(e); }, [&server] { server->shut_down(); }});
    server = std::make_unique<Server>(io, path, table, version);
    io.run();
}

} // namespace viommu::system::monitor
