// What the modelled kernel's drivers/base does, resolved once from its profile: each switch is a
// behaviour of the facts table (guest-model/profiles/data/facts.json) with the commit that decides it.
// The driver core reads these booleans on its hot paths instead of asking the profile each time.
#pragma once

#include "guest-model/profiles/fact_decisions.h"
#include "guest-model/profiles/profile.h"

namespace viommu::guest::driver_core {

struct DriverCoreSemantics {
    bool match_defer_stops_attach = false;
    bool match_error_continues_driver_attach = false;
    bool probe_error_flow = false;
    bool check_state_modules_aware = false;
    bool extend_timeout_on_driver_register = false;
    bool deferred_probe_reason = false;
    bool clear_reason_on_retry = false;
    bool links_defer_debug = false;
    bool links_defer_reason = false;
    bool dev_printk_probe_messages = false;
    bool pending_with_reason = false;
    bool pending_reason_warning = false;
    bool modules = false;          // CONFIG_MODULES
    bool symbolic_errname = false; // CONFIG_SYMBOLIC_ERRNAME: "%pe" prints -EPROBE_DEFER, not -517
    // driver_deferred_probe_timeout's default in seconds: -1 (never, 4.19), 0, or 10 (6.0+, modules).
    int default_deferred_probe_timeout = 0;

    // Every behaviour read above, with the decision and the commit behind it, in key order.
    profiles::FactDecisions decisions;

    static DriverCoreSemantics from(const profiles::Profile& profile);
};

} // namespace viommu::guest::driver_core
