#include "system/monitor/session.h"

#include <fmt/format.h>

#include "system/monitor/qmp_text.h"

namespace viommu::system::monitor {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// {"error": {"class": ..., "desc": ...}}, built member by member: an initializer list would build every
// pair as an array first, and a bad client is answered with one of these for each lexical error.
ordered_json error_json(const QmpError& e)
{
    ordered_json error = ordered_json::object();
    error.emplace("class", error_class_name(e.error_class));
    error.emplace("desc", e.desc);
    ordered_json answer = ordered_json::object();
    answer.emplace("error", std::move(error));
    return answer;
}

// qmp_dispatch_check_obj(): the members a request may have, each of the right type.
Expected<std::string, QmpError> check_request(const json& request, bool oob_enabled, bool& oob)
{
    const char* exec_key = nullptr;
    for (const auto& [name, value] : request.items()) {
        if (name == "execute" || (name == "exec-oob" && oob_enabled)) {
            if (!value.is_string())
                return unexpected(generic_error(fmt::format("QMP input member '{}' must be a string", name)));
            if (exec_key)
                return unexpected(generic_error(fmt::format("QMP input member '{}' clashes with '{}'", name, exec_key)));
            exec_key = name == "execute" ? "execute" : "exec-oob";
        } else if (name == "arguments") {
            if (!value.is_object())
                return unexpected(generic_error("QMP input member 'arguments' must be an object"));
        } else if (name != "id") {
            return unexpected(generic_error(fmt::format("QMP input member '{}' is unexpected", name)));
        }
    }
    if (!exec_key)
        return unexpected(generic_error("QMP input lacks member 'execute'"));
    oob = std::string_view(exec_key) == "exec-oob";
    return request[exec_key].get<std::string>();
}

} // namespace

Session::Session(const CommandTable& commands, ordered_json version, Send send, JsonLimits limits)
    : commands_(commands), version_(std::move(version)), send_(std::move(send)),
      stream_([this](JsonMessage m) { handle(std::move(m)); }, limits)
{
}

void Session::open()
{
    negotiated_ = false;
    oob_ = false;
    stream_.reset();
    // qmp_greeting(): "oob" is offered by a monitor with its own I/O thread, as QEMU's socket monitors are.
    send_(qmp_text({{"QMP", {{"version", version_}, {"capabilities", ordered_json::array({"oob"})}}}}));
}

void Session::receive(std::string_view bytes)
{
    stream_.feed(bytes);
}

void Session::event(const Event& e)
{
    // monitor_qapi_event_emit(): a monitor still negotiating gets no events.
    if (!negotiated_)
        return;
    if (in_command_)
        held_.push_back(e);
    else
        send_(qmp_text(event_json(e)));
}

void Session::handle(JsonMessage message)
{
    if (halted_)
        return;
    // A message the parser refused: handle_qmp_command() with an error, answered without an id.
    if (!message) {
        send_(qmp_text(error_json(generic_error(message.error()))));
        return;
    }
    in_command_ = true;
    const ordered_json response = dispatch(*message);
    in_command_ = false;
    send_(qmp_text(response));
    std::vector<Event> held;
    held.swap(held_);
    for (const Event& e : held)
        event(e);
}

ordered_json Session::dispatch(const json& request)
{
    if (!request.is_object())
        return error_json(generic_error("QMP input must be a JSON object"));
    bool oob = false;
    const auto name = check_request(request, oob_, oob);
    CommandResult result = name ? run(*name, request.value("arguments", json::object()), oob) : unexpected(name.error());
    // monitor_qmp_dispatch(): in negotiation mode every CommandNotFound says what is expected.
    if (!result && !negotiated_ && result.error().error_class == ErrorClass::kCommandNotFound && name && *name != "qmp_capabilities")
        result = unexpected(QmpError{ErrorClass::kCommandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'"});
    ordered_json response = result ? ordered_json{{"return", std::move(*result)}} : error_json(result.error());
    if (const auto id = request.find("id"); id != request.end())
        response["id"] = *id;
    return response;
}

CommandResult Session::run(const std::string& name, const json& args, bool oob)
{
    if (name == "qmp_capabilities")
        return capabilities(args);
    const Command* command = negotiated_ ? commands_.find(name) : nullptr;
    if (!command)
        return unexpected(QmpError{ErrorClass::kCommandNotFound, fmt::format("The command {} has not been found", name)});
    // No command here may run out of band (QCO_ALLOW_OOB): QEMU's are migrate-recover and friends.
    if (oob)
        return unexpected(generic_error(fmt::format("The command {} does not support OOB", name)));
    if (auto ok = check_arguments(args, command->params, command->extra_allowed); !ok)
        return unexpected(ok.error());
    return command->run(args);
}

CommandResult Session::capabilities(const json& args)
{
    // The marshaller visits the arguments first, the enum values included; input_type_enum()
    // (qapi/qapi-visit-core.c) names the parameter it was given, and a list's elements have none: "null".
    static const Param kParams[] = {{"enable", ParamType::kStringList, true}};
    if (auto ok = check_arguments(args, kParams); !ok)
        return unexpected(ok.error());
    bool oob = false;
    if (const auto it = args.find("enable"); it != args.end()) {
        for (const json& cap : *it) {
            if (cap != "oob")
                return unexpected(generic_error(
                    fmt::format("Parameter 'null' does not accept value '{}'", cap.get<std::string>())));
            oob = true;
        }
    }
    // Then qmp_qmp_capabilities(): once negotiated, the command is "not found" with a reason.
    if (negotiated_)
        return unexpected(QmpError{ErrorClass::kCommandNotFound,
                                   "Capabilities negotiation is already complete, command ignored"});
    negotiated_ = true;
    oob_ = oob;
    return ordered_json::object();
}

} // namespace viommu::system::monitor
