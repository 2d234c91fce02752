#include "tests/fuzz/qmp_guest.h"

#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "system/boot/guest.h"
#include "system/boot/libvirt_domain.h"
#include "system/monitor/guest_commands.h"
#include "tests/fuzz/finding.h"
#include "virtio/feature_bits.h"

namespace viommu::fuzz {

using nlohmann::json;
using nlohmann::ordered_json;
namespace boot = system::boot;
namespace monitor = system::monitor;

namespace {

// tests/integration/fixtures/q35-hotplug.xml with a third empty root port: a virtio NIC on pci.1, a
// hostdev on pci.2, and pci.3, pci.4 and pci.5 empty (00:02.0 to 00:02.4), so that a short input can
// fill every port and still be refused for lack of one. Two host functions are described for device_add:
// 0000:66:00.0 behind a 64 KiB-only host IOMMU (refused once the granule is frozen) and 0000:67:00.0
// with a host reserved region (admitted; the region comes and goes with the device).
constexpr int kRootPorts = 5;

std::string domain_xml()
{
    std::string ports;
    for (int i = 1; i <= kRootPorts; ++i)
        ports += fmt::format("    <controller type='pci' index='{}' model='pcie-root-port'>\n"
                             "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='{:#x}'{}/>\n"
                             "    </controller>\n",
                             i, i - 1, i == 1 ? " multifunction='on'" : "");
    return R"(<domain type='kvm'>
  <name>fuzz-qmp</name>
  <memory unit='MiB'>1024</memory>
  <metadata>
    <viommu:guest xmlns:viommu='https://viommu.dev/xmlns/guest/1'>
      <viommu:host-iommu source='0000:66:00.0' hotplug='yes' page-sizes='0x10000'/>
      <viommu:host-iommu source='0000:67:00.0' hotplug='yes' page-sizes='0x40201000' aw-bits='48'>
        <viommu:reserved start='0x10000000' end='0x1fffffff' type='reserved'/>
      </viommu:host-iommu>
    </viommu:guest>
  </metadata>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <controller type='pci' index='0' model='pcie-root'/>
)" + ports + R"(    <interface type='user'>
      <model type='virtio'/>
      <driver iommu='on'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x65' slot='0x00' function='0x0'/></source>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </hostdev>
    <iommu model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </iommu>
  </devices>
</domain>
)";
}

[[noreturn]] void guest_finding(const std::string& what)
{
    finding("fuzz-qmp: after the input, " + what);
}

ordered_json query(const monitor::CommandTable& commands, const char* name)
{
    const monitor::Command* command = commands.find(name);
    if (!command)
        guest_finding(fmt::format("the monitor has no {}", name));
    auto result = command->run(json::object());
    if (!result)
        guest_finding(fmt::format("{} failed: {}", name, result.error().desc));
    return std::move(*result);
}

// query-pci's functions, bridges' secondary buses included: their addresses as the report writes
// them, and the qdev IDs of those that are not bridges.
struct PciFunctions {
    std::multiset<std::string> bdfs;
    std::multiset<std::string> endpoint_ids;
    std::size_t endpoints = 0;
};

void collect(const ordered_json& devices, PciFunctions& out)
{
    for (const ordered_json& d : devices) {
        out.bdfs.insert(fmt::format("0000:{:02x}:{:02x}.{:x}", d["bus"].get<unsigned>(), d["slot"].get<unsigned>(),
                                    d["function"].get<unsigned>()));
        if (d.contains("pci_bridge")) {
            collect(d["pci_bridge"]["devices"], out);
            continue;
        }
        ++out.endpoints;
        if (const std::string id = d["qdev_id"].get<std::string>(); !id.empty())
            out.endpoint_ids.insert(id);
    }
}

PciFunctions pci_functions(const ordered_json& query_pci)
{
    PciFunctions out;
    for (const ordered_json& bus : query_pci)
        collect(bus["devices"], out);
    return out;
}

} // namespace

QmpGuest::QmpGuest()
{
    boot();
}

QmpGuest::~QmpGuest() = default;

void QmpGuest::boot()
{
    commands_.reset();
    guest_.reset();
    static const boot::GuestSpec spec = [] {
        auto parsed = boot::parse_domain_xml(domain_xml(), "fuzz-qmp.xml");
        if (!parsed)
            finding("fuzz-qmp: its domain does not parse: " + parsed.error().what());
        return std::move(*parsed);
    }();
    guest_ = std::make_unique<boot::LiveGuest>(spec, boot::default_profile(spec.arch));
    commands_ = std::make_unique<monitor::CommandTable>();
    monitor::add_guest_commands(*commands_, *guest_, monitor::monitor_version("fuzz"),
                                {[this](const monitor::Event& e) { emit_(e); }, [this] { quit_(); }});
    watched_ = {};
    for (const auto& [name, command] : commands_->all())
        watched_.add(name, {command.params, command.extra_allowed, [this, run = command.run](const json& args) {
                                ran_ = true;
                                return run(args);
                            }});
    booted_ = observe();
    booted_functions_ = pci_functions(booted_.pci).endpoints;
}

QmpGuest::Observed QmpGuest::observe() const
{
    return {query(*commands_, "x-viommu-report"), query(*commands_, "query-pci"),
            query(*commands_, "x-viommu-query-domains")};
}

void QmpGuest::settle(bool changed, const std::multiset<std::string>& plugged)
{
    // The input ran no command, and its answers say that none changed anything.
    if (!std::exchange(ran_, false) && !changed && plugged.empty())
        return;
    const Observed now = observe();
    const PciFunctions pci = pci_functions(now.pci);
    std::multiset<std::string> reported;
    for (const ordered_json& d : now.report["devices"])
        reported.insert(d["bdf"].get<std::string>());
    if (reported != pci.bdfs)
        guest_finding(fmt::format("x-viommu-report's functions {} are not query-pci's {}", json(reported).dump(),
                                  json(pci.bdfs).dump()));
    std::multiset<std::string> named = plugged;
    named.erase("");
    if (pci.endpoint_ids != named || pci.endpoints != booted_functions_ + plugged.size())
        guest_finding(fmt::format("query-pci has {} endpoints with IDs {}; the answers added {} to the boot's {}: {}",
                                  pci.endpoints, json(pci.endpoint_ids).dump(), plugged.size(), booted_functions_,
                                  json(plugged).dump()));
    // Nothing a QMP client sends reaches the virtio-iommu's queues: it must not have given up.
    if (const auto* iommu = guest_->iommu(); iommu && (iommu->broken() || (iommu->status() & virtio::status::kNeedsReset)))
        guest_finding("the virtio-iommu gave up: " + iommu->failure_reason());
    if (changed) {
        boot();
        return;
    }
    if (now != booted_)
        guest_finding("an input whose commands were all refused or only queried changed the guest:\n" +
                      booted_.text() + "\n" + now.text());
}

} // namespace viommu::fuzz
