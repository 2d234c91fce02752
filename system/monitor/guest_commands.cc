#include "system/monitor/guest_commands.h"

#include <fmt/format.h>

#include "hw/virtio-iommu/wire.h"
#include "system/boot/report_format.h"
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

// A device_add property that is "on"/"off" or a boolean (QEMU's bool property parser).
Expected<bool, QmpError> on_off(const json& args, const char* name, const std::string& driver)
{
    const auto it = args.find(name);
    if (it == args.end())
        return false;
    if (it->is_boolean())
        return it->get<bool>();
    if (it->is_string() && (*it == "on" || *it == "off"))
        return *it == "on";
    return unexpected(generic_error(fmt::format("Parameter '{}.{}' expects 'on' or 'off'", driver, name)));
}

CommandResult device_add(boot::LiveGuest& guest, const json& args)
{
    boot::PlugRequest r;
    r.driver = *string_arg(args, "driver");
    // Every property must be one the device has (object_property_find(): "Property '%s.%s' not found").
    for (const auto& [name, value] : args.items()) {
        const bool known = name == "driver" || name == "id" || name == "bus" ||
                           (name == "host" && r.driver == "vfio-pci") ||
                           (name == "iommu_platform" && r.driver == "virtio-net-pci");
        if (!known)
            return unexpected(generic_error(fmt::format("Property '{}.{}' not found", r.driver, name)));
        if (name != "iommu_platform" && !value.is_string())
            return unexpected(generic_error(fmt::format("Invalid parameter type for '{}', expected: string", name)));
    }
    r.id = string_arg(args, "id").value_or("");
    r.bus = string_arg(args, "bus").value_or("");
    r.host = string_arg(args, "host").value_or("");
    const auto platform = on_off(args, "iommu_platform", r.driver);
    if (!platform)
        return unexpected(platform.error());
    r.iommu_platform = *platform;
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
    table.add("device_add", {{{"driver", P::kString}}, true, [&guest](const json& a) { return device_add(guest, a); }});
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
