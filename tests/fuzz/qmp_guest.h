// fuzz-qmp's guest: a q35 machine with a virtio-iommu, a virtio NIC and a hostdev behind root ports and
// three empty root ports for device_add (domain_xml() in qmp_guest.cc), booted as viommu-boot --qmp boots it
// (libvirt's test driver, the x86_64 default profile), with the monitor's command table over it.
//
// A boot takes milliseconds, so it is booted once per process and again only after an input changed
// it: a device_add, device_del or x-viommu-inject-fault that succeeded. Any other input must leave it
// exactly as booted (docs/monitor.md: a refused command changes nothing), which settle() checks on
// the guest's report, query-pci and the virtio-iommu's domains; so no input sees another's guest.
// The sessions reach the guest only through the command table, whose commands note that they ran:
// after an input that ran none there is nothing to observe.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "system/boot/live_guest.h"
#include "system/monitor/command_table.h"
#include "system/monitor/event.h"

namespace viommu::fuzz {

class QmpGuest {
public:
    QmpGuest();
    ~QmpGuest();

    // The guest's commands, each noting that it ran.
    const system::monitor::CommandTable& commands() const { return watched_; }
    // Where the commands' events and quit go for the input being run.
    void set_hooks(std::function<void(const system::monitor::Event&)> emit, std::function<void()> quit)
    {
        emit_ = std::move(emit);
        quit_ = std::move(quit);
    }

    // After an input: the guest consistent with what the input's answers said (plugged: the IDs of the
    // functions added and not removed), then left as booted for the next input.
    void settle(bool changed, const std::multiset<std::string>& plugged);

private:
    // The guest as the query commands show it.
    struct Observed {
        nlohmann::ordered_json report, pci, domains;
        bool operator==(const Observed&) const = default;
        std::string text() const { return report.dump() + pci.dump() + domains.dump(); }
    };

    void boot();
    Observed observe() const;

    std::unique_ptr<system::boot::LiveGuest> guest_;
    std::unique_ptr<system::monitor::CommandTable> commands_;
    system::monitor::CommandTable watched_; // commands_, each setting ran_
    bool ran_ = false;                      // a command of watched_ ran since the last settle()
    std::function<void(const system::monitor::Event&)> emit_;
    std::function<void()> quit_;
    Observed booted_;                  // observe() right after the boot
    std::size_t booted_functions_ = 0; // non-bridge functions in query-pci right after the boot
};

} // namespace viommu::fuzz
