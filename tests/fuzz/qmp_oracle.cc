#include "tests/fuzz/qmp_oracle.h"

#include <vector>

#include <fmt/format.h>

#include "tests/fuzz/finding.h"

namespace viommu::fuzz {

using nlohmann::json;
using nlohmann::ordered_json;
namespace monitor = system::monitor;

namespace {

[[noreturn]] void qmp_finding(const std::string& what)
{
    finding("fuzz-qmp: " + what);
}

bool has_only(const ordered_json& object, std::initializer_list<const char*> keys)
{
    std::size_t known = 0;
    for (const char* k : keys)
        known += object.contains(k) ? 1 : 0;
    return known == object.size();
}

// The command a message asks for, once the session accepted it as a request.
std::string command_of(const json& request)
{
    for (const char* key : {"execute", "exec-oob"})
        if (const auto it = request.find(key); it != request.end() && it->is_string())
            return it->get<std::string>();
    return "";
}

json read_with_strtod(const std::string& text)
{
    std::vector<monitor::JsonMessage> read;
    monitor::JsonStream reader([&read](monitor::JsonMessage m) { read.push_back(std::move(m)); });
    reader.feed(text);
    if (read.size() != 1 || !read[0])
        qmp_finding("a line that is not one JSON value: " + text);
    return std::move(*read[0]);
}

} // namespace

QmpOracle::QmpOracle(monitor::JsonLimits limits)
    : stream_([this](monitor::JsonMessage m) { unanswered_.push_back(std::move(m)); }, limits)
{
}

void QmpOracle::connect()
{
    greeted_ = false;
    negotiated_ = false;
}

void QmpOracle::client_sends(std::string_view bytes)
{
    stream_.feed(bytes);
}

void QmpOracle::received()
{
    // What follows quit in the same read is not executed, and not answered (monitor/qmp.c stops there).
    if (!unanswered_.empty() && !quit_)
        qmp_finding(fmt::format("{} complete message(s) left unanswered, the first: {}", unanswered_.size(),
                                unanswered_.front() ? unanswered_.front()->dump() : unanswered_.front().error()));
}

void QmpOracle::disconnect()
{
    check_owed_event();
    stream_.reset();
    unanswered_.clear();
}

void QmpOracle::line(const std::string& text)
{
    if (text.empty() || text.back() != '\n' || text.find('\n') != text.size() - 1)
        qmp_finding("a line that is not one newline-terminated line: " + text);
    // Read as ordered_json: an object is one vector rather than a tree node per member, fewer
    // allocations for each of the answers (about 56 an input), which ASan makes costly.
    ordered_json parsed;
    try {
        parsed = ordered_json::parse(text);
    } catch (const json::out_of_range&) {
        // nlohmann refuses a number beyond a double's range (RFC 8259 §6 lets a reader): the monitor
        // writes one for an id that overflowed (qmp_text.cc), to be read with strtod(), as its own
        // reader does.
        parsed = read_with_strtod(text);
    } catch (const json::exception& e) {
        qmp_finding(fmt::format("a line that is not JSON ({}): {}", e.what(), text));
    }
    if (!parsed.is_object())
        qmp_finding("a line that is not a JSON object: " + text);
    if (!greeted_)
        greeting(parsed);
    else if (parsed.contains("event"))
        event(parsed);
    else
        answer(parsed);
}

void QmpOracle::greeting(const ordered_json& line)
{
    // qmp_greeting(): {"QMP": {"version": ..., "capabilities": [...]}}, nothing before it.
    const ordered_json& qmp = line.contains("QMP") ? line["QMP"] : ordered_json();
    if (!has_only(line, {"QMP"}) || !qmp.is_object() || !has_only(qmp, {"version", "capabilities"}) ||
        !qmp["version"].is_object() || !qmp["capabilities"].is_array())
        qmp_finding("the first line on a connection is not the greeting: " + line.dump());
    greeted_ = true;
}

void QmpOracle::answer(const ordered_json& line)
{
    check_owed_event();
    if (line.contains("QMP"))
        qmp_finding("a greeting in the middle of a session: " + line.dump());
    const bool returned = line.contains("return");
    if (!has_only(line, {"return", "error", "id"}) || returned == line.contains("error"))
        qmp_finding("a line that is neither an answer nor an event: " + line.dump());
    if (!returned) {
        const ordered_json& error = line["error"];
        // The classes docs/monitor.md lists as raised (qapi/error.json has DeviceNotActive and
        // KVMMissingCap too, which no command here raises).
        static const std::set<std::string> kClasses = {"GenericError", "CommandNotFound", "DeviceNotFound"};
        if (!error.is_object() || !has_only(error, {"class", "desc"}) || !error["class"].is_string() ||
            !kClasses.count(error["class"].get<std::string>()) || !error["desc"].is_string() ||
            error["desc"].get<std::string>().empty())
            qmp_finding("an error that is not {\"class\": KNOWN, \"desc\": TEXT}: " + line.dump());
    }
    if (unanswered_.empty())
        qmp_finding("an answer to no message: " + line.dump());
    const monitor::JsonMessage message = std::move(unanswered_.front());
    unanswered_.pop_front();

    // A message that is not a request object gets a GenericError without an id.
    if (!message || !message->is_object()) {
        if (returned || line["error"]["class"] != "GenericError" || line.contains("id"))
            qmp_finding(fmt::format("message {} is not a request, but its answer is {}",
                                    message ? message->dump() : message.error(), line.dump()));
        return;
    }
    const json& request = *message;
    if (request.contains("id") != line.contains("id") || (request.contains("id") && request["id"] != json(line["id"])))
        qmp_finding(fmt::format("the answer to {} does not echo its id: {}", request.dump(), line.dump()));
    if (!returned)
        return;

    const std::string command = command_of(request);
    const json args = request.contains("arguments") ? request["arguments"] : json::object();
    if (command == "qmp_capabilities") {
        if (negotiated_)
            qmp_finding("qmp_capabilities returned twice on one connection: " + request.dump());
        negotiated_ = true;
    } else if (!negotiated_) {
        qmp_finding("a command ran before capabilities negotiation: " + request.dump());
    } else if (command == "device_add") {
        changed_ = true;
        // An "id" that is not a string is dropped (qemu_opts_from_qdict()): the device has none.
        const auto id = args.find("id");
        plugged_.insert(id != args.end() && id->is_string() ? id->get<std::string>() : std::string());
    } else if (command == "device_del") {
        changed_ = true;
        const auto it = plugged_.find(args["id"].get<std::string>());
        if (it == plugged_.end())
            qmp_finding("device_del returned for an ID no device_add gave: " + request.dump());
        plugged_.erase(it);
        owed_event_ = "DEVICE_DELETED";
        owed_data_ = args["id"];
    } else if (command == "x-viommu-inject-fault") {
        changed_ = true;
        owed_event_ = "X_VIOMMU_FAULT";
    } else if (command == "quit") {
        quit_ = true;
        owed_event_ = "SHUTDOWN";
    }
}

void QmpOracle::event(const ordered_json& line)
{
    // qmp_event_build_dict(): {"timestamp": {"seconds", "microseconds"}, "event", "data"}.
    const ordered_json& ts = line.contains("timestamp") ? line["timestamp"] : ordered_json();
    if (!has_only(line, {"timestamp", "event", "data"}) || !line["event"].is_string() || !line["data"].is_object() ||
        !ts.is_object() || !has_only(ts, {"seconds", "microseconds"}) || !ts["seconds"].is_number_integer() ||
        !ts["microseconds"].is_number_integer() || ts["microseconds"].get<int64_t>() < 0 ||
        ts["microseconds"].get<int64_t>() >= 1000000)
        qmp_finding("a malformed event: " + line.dump());
    // monitor_qapi_event_emit(): nothing for a client still negotiating.
    if (!negotiated_)
        qmp_finding("an event before capabilities negotiation: " + line.dump());
    const std::string name = line["event"].get<std::string>();
    if (name != owed_event_)
        qmp_finding(fmt::format("event {} does not follow the answer of a command that raises it (expected: '{}')",
                                line.dump(), owed_event_));
    if (name == "DEVICE_DELETED" && json(line["data"].value("device", ordered_json())) != owed_data_)
        qmp_finding(fmt::format("DEVICE_DELETED for another device than device_del's {}: {}", owed_data_.dump(),
                                line.dump()));
    owed_event_.clear();
}

void QmpOracle::check_owed_event() const
{
    if (!owed_event_.empty())
        qmp_finding("the last command's answer was not followed by its event " + owed_event_);
}

} // namespace viommu::fuzz
