// The commands a monitor offers: each with its parameters (checked before it runs, arguments.h) and
// what it does. A command returns its "return" value or a QmpError, and may queue events that go out
// after its answer.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "system/monitor/arguments.h"
#include "system/monitor/qmp_error.h"

namespace viommu::system::monitor {

using CommandResult = Expected<nlohmann::ordered_json, QmpError>;

struct Command {
    std::vector<Param> params;
    bool extra_allowed = false; // takes properties it checks itself (device_add)
    std::function<CommandResult(const nlohmann::json& args)> run;
};

class CommandTable {
public:
    void add(std::string name, Command command) { commands_[std::move(name)] = std::move(command); }
    const Command* find(const std::string& name) const
    {
        const auto it = commands_.find(name);
        return it == commands_.end() ? nullptr : &it->second;
    }
    // Every command by name: for a table that wraps them (fuzz-qmp's notes which ran).
    const std::map<std::string, Command>& all() const { return commands_; }

private:
    std::map<std::string, Command> commands_;
};

} // namespace viommu::system::monitor
