#include "system/monitor/guest_commands.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hw/virtio-iommu/wire.h"
#include "system/boot/report_format.h"
#include "system/monitor/qdict_order.h"
#include "system/monitor/query_pci.h"

namespace viommu::system::monitor {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;
namespace hwv = hw::virtio_iommu;

// VIRTIO_IOMMU_FAULT_R_* in order, and the VIRTIO_IOMMU_FAULT_F_* flags (virtio v1.2 §5.13.6.9).
constexpr const char* kReasons[] = {"unknown", "domain", "mapping"};
static_assert(hwv::wire::kFaultRMapping == 2);
constexpr uint32_t kFaultRead = hwv::wire::kFaultFRead, kFaultWrite = hwv::wire::kFaultFWrite,
                   kFaultExec = hwv::wire::kFaultFExec, kFaultAddress = hwv::wire::kFaultFAddress;

// qemu_opts_from_qdict_entry() (util/qemu-option.c): device_add's arguments become QemuOpts strings, a
// string as it is, a number as qnum_to_string() prints it, a boolean "on" or "off"; any other value is
// dropped without a word.
std::optional<std::string> opt_text(const json& v)
{
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_boolean())
        return v.get<bool>() ? "on" : "off";
    if (v.is_number_integer())
        return fmt::format("{}", v.get<int64_t>());
    if (v.is_number_unsigned())
        return fmt::format("{}", v.get<uint64_t>());
    if (v.is_number_float())
        return fmt::format("{:.17g}", v.get<double>());
    return std::nullopt;
}

// qapi_bool_parse(), as the keyval input visitor calls it for a bool property.
std::optional<bool> bool_text(const std::string& text)
{
    if (text == "on" || text == "yes" || text == "true" || text == "y")
        return true;
    if (text == "off" || text == "no" || text == "false" || text == "n")
        return false;
    return std::nullopt;
}

// set_pci_devfn() (hw/core/qdev-properties-system.c): "SLOT[.FN]" in hex, read with the same sscanf()
// formats; -1 when it is not one.
int devfn_text(const std::string& text)
{
    unsigned slot = 0, fn = 0;
    int n = 0;
    if (std::sscanf(text.c_str(), "%x.%x%n", &slot, &fn, &n) != 2) {
        fn = 0;
        if (std::sscanf(text.c_str(), "%x%n", &slot, &n) != 1)
            return -1;
    }
    // str[n] != '\0': the whole string, a U+0000 in it included (QEMU holds it as C0 80).
    if (static_cast<std::size_t>(n) != text.size() || fn > 7 || slot > 31)
        return -1;
    return static_cast<int>(slot << 3 | fn);
}

// The property's effect on the request, or QEMU's refusal of it.
std::string set_property(boot::PlugRequest& r, const std::string& name, const std::string& text)
{
    if (name == "iommu_platform" && r.driver == "virtio-net-pci") {
        const auto on = bool_text(text);
        if (!on)
            return "Parameter 'iommu_platform' expects 'on' or 'off'";
        r.iommu_platform = *on;
        return "";
    }
    if (name == "host" && r.driver == "vfio-pci") {
        r.host = text;
        return "";
    }
    if (name == "addr") {
        const int devfn = devfn_text(text);
        if (devfn < 0)
            return fmt::format("Property '{}.addr' doesn't take value '{}'", r.driver, text);
        if (devfn != 0)
            return fmt::format("addr '{}' is not modelled: viommu plugs a device at slot 0 function 0 of a root port",
                               text);
        return "";
    }
    // object_property_find() (qom/object.c).
    return fmt::format("Property '{}.{}' not found", r.driver, name);
}

CommandResult device_add(boot::LiveGuest& guest, const json& args)
{
    // qemu_opts_from_qdict() first: an "id" that is a string must be an identifier; one that is not is
    // dropped (qdict_get_try_str()). Then qdev_device_add_from_qdict() wants a driver.
    boot::PlugRequest r;
    if (const auto id = args.find("id"); id != args.end() && id->is_string()) {
        r.id = id->get<std::string>();
        if (!boot::qdev_id_wellformed(r.id))
            return unexpected(generic_error("Parameter 'id' expects an identifier"));
    }
    std::vector<std::pair<std::string, std::string>> properties;
    std::optional<std::string> driver;
    for (const auto& [name, value] : args.items()) {
        auto text = opt_text(value);
        if (!text || name == "id")
            continue;
        if (name == "driver")
            driver = std::move(text);
        else if (name == "bus")
            r.bus = *text;
        else
            properties.emplace_back(name, *text);
    }
    if (!driver)
        return unexpected(generic_error("Parameter 'driver' is missing"));
    r.driver = *driver;
    // object_set_properties_from_qdict(): in QDict order, the first refusal stops it. Two names in one
    // bucket are taken here by name; QEMU takes the client's later one first (not modelled: the
    // arguments were read into a sorted map).
    std::stable_sort(properties.begin(), properties.end(), [](const auto& a, const auto& b) {
        return qdict_bucket(a.first) < qdict_bucket(b.first);
    });
    for (const auto& [name, text] : properties) {
        r.property_error = set_property(r, name, text);
        if (!r.property_error.empty())
            break;
    }
    auto added = guest.device_add(r);
    if (!added)
        return unexpected(QmpError{added.error().not_found ? ErrorClass::kDeviceNotFound : ErrorClass::kGenericError,
                                   added.error().message});
    return ordered_json::object();
}

ordered_json domains(const boot::LiveGuest& guest)
{
    ordered_json out = ordered_json::array();
    const hwv::VirtioIommu* iommu = guest.iommu();
    if (!iommu)
        return out;
    for (const hwv::VirtioIommuDomain* d : iommu->domains().all()) {
        ordered_json endpoints = ordered_json::array();
        for (hwv::EndpointId ep : d->endpoints)
            endpoints.push_back(ep.value());
        out.push_back({{"id", d->id.value()},
                       {"bypass", d->bypass},
                       {"endpoints", std::move(endpoints)},
                       {"mappings", d->mappings.size()}});
    }
    return out;
}

CommandResult mappings(const boot::LiveGuest& guest, const json& args)
{
    const uint64_t id = *unsigned_arg(args, "domain");
    const hwv::VirtioIommu* iommu = guest.iommu();
    const hwv::VirtioIommuDomain* domain =
        iommu && id <= UINT32_MAX ? iommu->domains().find(hwv::DomainId(static_cast<uint32_t>(id))) : nullptr;
    if (!domain)
        return unexpected(generic_error(fmt::format("Domain {} not found", id)));
    ordered_json out = ordered_json::array();
    domain->mappings.for_each([&](const hwv::Mapping& m) {
        out.push_back({{"virt-start", m.iova.first.value()},
                       {"virt-end", m.iova.last.value()},
                       {"phys-start", m.phys_start},
                       {"flags", m.flags}});
    });
    return out;
}

CommandResult inject_fault(boot::LiveGuest& guest, const json& args, const GuestMonitorHooks& hooks)
{
    if (!guest.iommu())
        return unexpected(QmpError{ErrorClass::kDeviceNotFound, "The guest has no virtio-iommu"});
    const uint64_t endpoint = *unsigned_arg(args, "endpoint");
    if (endpoint > UINT32_MAX)
        return unexpected(generic_error("Parameter 'endpoint' expects uint32"));
    const std::string reason = *string_arg(args, "reason");
    hwv::FaultRecord fault;
    fault.endpoint = hwv::EndpointId(static_cast<uint32_t>(endpoint));
    bool known = false;
    for (uint8_t i = 0; i < std::size(kReasons); ++i)
        if (reason == kReasons[i]) {
            fault.reason = i;
            known = true;
        }
    if (!known)
        return unexpected(generic_error(fmt::format("Parameter 'reason' does not accept value '{}'", reason)));
    const auto flag = [&](const char* name, uint32_t bit) {
        if (args.value(name, false))
            fault.flags |= bit;
    };
    flag("read", kFaultRead);
    flag("write", kFaultWrite);
    flag("exec", kFaultExec);
    if (const auto address = unsigned_arg(args, "address")) {
        fault.address = *address;
        fault.flags |= kFaultAddress;
    }
    const std::string logged = guest.inject_fault(fault);
    ordered_json data = {{"device", guest.report().iommu.device},
                         {"endpoint", endpoint},
                         {"reason", reason},
                         {"read", (fault.flags & kFaultRead) != 0},
                         {"write", (fault.flags & kFaultWrite) != 0},
                         {"exec", (fault.flags & kFaultExec) != 0},
                         {"guest-log", logged}};
    if (fault.flags & kFaultAddress)
        data["address"] = fault.address;
    hooks.emit(Event{"X_VIOMMU_FAULT", data});
    return ordered_json{{"guest-log", logged}};
}

} // namespace

ordered_json monitor_version(const std::string& viommu_version)
{
    // qapi/control.json's VersionInfo and VersionTriple, members in schema order (qmp_text.h).
    return {{"qemu", {{"major", 7}, {"minor", 2}, {"micro", 0}}}, {"package", "viommu " + viommu_version}};
}

void add_guest_commands(CommandTable& table, boot::LiveGuest& guest, ordered_json version, GuestMonitorHooks hooks)
{
    using P = ParamType;
    table.add("query-version", {{}, false, [version](const json&) -> CommandResult { return version; }});
    // The guest never stops: there is no stop or cont, and no single-stepping.
    table.add("query-status", {{}, false, [](const json&) -> CommandResult {
                                   // qapi/run-state.json's StatusInfo, in schema order (qmp_text.h).
                                   return ordered_json{{"running", true}, {"singlestep", false}, {"status", "running"}};
                               }});
    table.add("query-pci", {{}, false, [&guest](const json&) -> CommandResult { return query_pci(guest); }});
    // No parameter list: device_add reads its arguments as QemuOpts do (device_add() above).
    table.add("device_add", {{}, true, [&guest](const json& a) { return device_add(guest, a); }});
    table.add("device_del", {{{"id", P::kString}}, false, [&guest, hooks](const json& a) -> CommandResult {
                                 const std::string id = *string_arg(a, "id");
                                 if (auto gone = guest.device_del(id); !gone)
                                     return unexpected(QmpError{gone.error().not_found ? ErrorClass::kDeviceNotFound
                                                                                      : ErrorClass::kGenericError,
                                                                gone.error().message});
                                 // The guest let go of it and powered the slot off: QEMU unrealized it.
                                 hooks.emit(Event{"DEVICE_DELETED", {{"device", id}, {"path", "/machine/peripheral/" + id}}});
                                 return ordered_json::object();
                             }});
    table.add("quit", {{}, false, [hooks](const json&) -> CommandResult {
                           hooks.emit(Event{"SHUTDOWN", {{"guest", false}, {"reason", "host-qmp-quit"}}});
                           hooks.quit();
                           return ordered_json::object();
                       }});
    table.add("x-viommu-query-domains", {{}, false, [&guest](const json&) -> CommandResult { return domains(guest); }});
    table.add("x-viommu-query-mappings",
              {{{"domain", P::kUnsigned}}, false, [&guest](const json& a) { return mappings(guest, a); }});
    table.add("x-viommu-inject-fault", {{{"endpoint", P::kUnsigned},
                                         {"reason", P::kString},
                                         {"address", P::kUnsigned, true},
                                         {"read", P::kBoolean, true},
                                         {"write", P::kBoolean, true},
                                         {"exec", P::kBoolean, true}},
                                        false,
                                        [&guest, hooks](const json& a) { return inject_fault(guest, a, hooks); }});
    table.add("x-viommu-report", {{}, false, [&guest](const json&) -> CommandResult {
                                      return ordered_json(boot::report_json(guest.report()));
                                  }});
}

} // namespace viommu::system::monitor
