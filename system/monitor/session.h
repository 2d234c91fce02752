// One client's QMP session (docs/interop/qmp-spec.txt; QEMU 7.2 monitor/qmp.c and qapi/qmp-dispatch.c):
//  - on connection the server greets: {"QMP": {"version": ..., "capabilities": ["oob"]}};
//  - the session starts in capabilities negotiation mode, where only qmp_capabilities is a command
//    (anything else: CommandNotFound "Expecting capabilities negotiation with 'qmp_capabilities'");
//  - then each request {"execute": NAME, "arguments": {...}, "id": ANY} gets {"return": ...} or
//    {"error": {"class": ..., "desc": ...}}, with the request's "id" echoed; input that is not a
//    request (bad JSON, not an object, an unexpected member) gets a GenericError and changes nothing;
//  - events go to a session past negotiation only, after the answer of the command that raised them.
// Requests are executed one at a time, in order, as they complete in the byte stream.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "system/monitor/command_table.h"
#include "system/monitor/event.h"
#include "system/monitor/json_stream.h"

namespace viommu::system::monitor {

class Session {
public:
    using Send = std::function<void(std::string line)>;

    // version: query-version's value, which the greeting carries.
    Session(const CommandTable& commands, nlohmann::ordered_json version, Send send, JsonLimits limits = {});

    // The greeting; the session is in negotiation mode.
    void open();
    // Bytes from the client.
    void receive(std::string_view bytes);
    // The client went away: a half-received request is dropped, unexecuted.
    void close() { stream_.reset(); }
    // An event: sent now, or after the answer of the command running.
    void event(const Event& event);
    bool negotiated() const { return negotiated_; }
    // After quit: what the client sent after it is not executed.
    void halt() { halted_ = true; }

private:
    void handle(JsonMessage message);
    nlohmann::ordered_json dispatch(const nlohmann::json& request);
    CommandResult run(const std::string& name, const nlohmann::json& args, bool oob);
    CommandResult capabilities(const nlohmann::json& args);

    const CommandTable& commands_;
    nlohmann::ordered_json version_;
    Send send_;
    JsonStream stream_;
    bool negotiated_ = false;
    bool oob_ = false;
    bool in_command_ = false;
    bool halted_ = false;
    std::vector<Event> held_;
};

} // namespace viommu::system::monitor
