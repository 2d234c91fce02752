// What fuzz-qmp asks of the lines a QMP session sends back to its client (docs/monitor.md, QEMU 7.2's
// docs/interop/qmp-spec.txt): every line one JSON object, which is the greeting (first on a connection
// and only there), an answer ({"return": ...} or {"error": {"class", "desc"}}, with a class of
// qapi/error.json that the monitor raises) or an event with its timestamp. The oracle frames the
// client's bytes itself, with a JsonStream of the session's limits, so that it knows which messages
// the session must answer, one answer each, in order: a request's "id" echoed exactly, none for a
// message that is not an object with one. Events go to a negotiated client only, right after the
// answer of the command that raised them, and every command that raises one raises it.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "system/monitor/json_stream.h"

namespace viommu::fuzz {

class QmpOracle {
public:
    explicit QmpOracle(system::monitor::JsonLimits limits);

    // A client connected: the session's next line is its greeting.
    void connect();
    // The client's bytes, framed here before the session gets them.
    void client_sends(std::string_view bytes);
    // The session has had them: every message they completed has its answer.
    void received();
    // The client went away (a half-received message is dropped unanswered, as by the session).
    void disconnect();
    // A line the session sent.
    void line(const std::string& text);

    // quit was answered: the session executes nothing more.
    bool quit() const { return quit_; }
    // Whether a command that changes the guest succeeded (device_add, device_del, x-viommu-inject-fault).
    bool guest_changed() const { return changed_; }
    // The IDs of the functions device_add added and device_del did not remove ("" for one without).
    const std::multiset<std::string>& plugged() const { return plugged_; }

private:
    void greeting(const nlohmann::ordered_json& line);
    void answer(const nlohmann::ordered_json& line);
    void event(const nlohmann::ordered_json& line);
    // The event the last answer owes has not come.
    void check_owed_event() const;

    system::monitor::JsonStream stream_;
    std::deque<system::monitor::JsonMessage> unanswered_;
    bool greeted_ = true;
    bool negotiated_ = false;
    bool quit_ = false;
    bool changed_ = false;
    std::string owed_event_;       // the event the last answer's command raises, until it comes
    nlohmann::json owed_data_;     // its "device" for DEVICE_DELETED
    std::multiset<std::string> plugged_;
};

} // namespace viommu::fuzz
