// Managed device links (drivers/base/core.c), enough for "this consumer waits for that supplier": a
// consumer may not probe until every managed link to a supplier is AVAILABLE, which happens when the
// supplier binds; unbinding a supplier unbinds its consumers first.
//
// This class keeps the links and their state machine; DriverCore does the logging around it, which
// differs between kernel versions.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/expected.h"
#include "guest-model/driver-core/device.h"

namespace viommu::guest::driver_core {

// include/linux/device.h. Only STATELESS is accepted by device_link_add() here; without it a link is
// managed (DL_FLAG_MANAGED is added), as in the kernel.
inline constexpr uint32_t kDlFlagStateless = 1u << 0;
inline constexpr uint32_t kDlFlagManaged = 1u << 6;

// enum device_link_state.
enum class LinkState { none, dormant, available, consumer_probe, active, supplier_unbind };

struct DeviceLink {
    Device* consumer = nullptr;
    Device* supplier = nullptr;
    uint32_t flags = 0;
    LinkState status = LinkState::none;

    bool managed() const { return (flags & kDlFlagManaged) != 0; }
};

class DeviceLinks {
public:
    // device_link_add(): -kEINVAL for an unknown flag, a link to itself, an unregistered supplier, or a
    // supplier that already depends on the consumer (a cycle, device_is_dependent()). A second link
    // between the same pair returns the existing one.
    [[nodiscard]] Expected<DeviceLink*, int> add(Device& consumer, Device& supplier, uint32_t flags);

    // device_links_check_suppliers() without its messages: the first managed supplier link that is not
    // AVAILABLE, or nullptr after moving every supplier link to CONSUMER_PROBE. Either way the device
    // is now "probing".
    static DeviceLink* check_suppliers(Device& dev);
    // device_links_driver_bound(): the device's consumers may now probe; its own supplier links are
    // ACTIVE.
    static void driver_bound(Device& dev);
    // device_links_no_driver(): a probe failed, so links it made or used go back.
    static void no_driver(Device& dev);
    // device_links_busy(): a consumer is bound or probing through a link to dev.
    static bool busy(const Device& dev);
    // The consumers to unbind before dev's driver goes (device_links_busy() and
    // device_links_unbind_consumers()); every managed consumer link becomes SUPPLIER_UNBIND.
    static std::vector<Device*> consumers_to_unbind(Device& dev);
    // device_links_driver_cleanup(): dev's driver is gone; its consumers' links become DORMANT.
    static void driver_cleanup(Device& dev);
    // device_link_del() for every link of a device being deleted.
    void remove_all(Device& dev);

    std::size_t size() const { return links_.size(); }

private:
    static bool depends_on(const Device& dev, const Device& target);
    std::vector<std::unique_ptr<DeviceLink>> links_;
};

} // namespace viommu::guest::driver_core
