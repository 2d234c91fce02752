#include "guest-model/driver-core/semantics.h"

#include "guest-model/profiles/fact_keys.h"

namespace viommu::guest::driver_core {

DriverCoreSemantics DriverCoreSemantics::from(const profiles::Profile& profile)
{
    DriverCoreSemantics s;
    const auto read = [&](profiles::FactKey key, bool& out) { out = s.decisions.read(profile, key); };
    using b = profiles::fact::driver_core;
    read(b::kMatchDeferStopsAttach, s.match_defer_stops_attach);
    read(b::kMatchErrorContinuesDriverAttach, s.match_error_continues_driver_attach);
    read(b::kProbeErrorFlow, s.probe_error_flow);
    read(b::kCheckStateModulesAware, s.check_state_modules_aware);
    bool timeout_10s = false;
    read(b::kDeferredProbeTimeout10s, timeout_10s);
    read(b::kExtendTimeoutOnDriverRegister, s.extend_timeout_on_driver_register);
    read(b::kDeferredProbeReason, s.deferred_probe_reason);
    read(b::kClearReasonOnRetry, s.clear_reason_on_retry);
    read(b::kLinksDeferDebug, s.links_defer_debug);
    read(b::kLinksDeferReason, s.links_defer_reason);
    read(b::kDevPrintkProbeMessages, s.dev_printk_probe_messages);
    read(b::kPendingWithReason, s.pending_with_reason);
    read(b::kPendingReasonWarning, s.pending_reason_warning);
    s.modules = profile.config_enabled("CONFIG_MODULES");
    s.symbolic_errname = profile.config_enabled("CONFIG_SYMBOLIC_ERRNAME");

    // drivers/base/dd.c: 4.19 "static int deferred_probe_timeout = -1;"; from c8c43cee29f6
    // "int driver_deferred_probe_timeout;" (0); from f516d01b9df2 10 under CONFIG_MODULES.
    if (!s.check_state_modules_aware)
        s.default_deferred_probe_timeout = -1;
    else if (timeout_10s && s.modules)
        s.default_deferred_probe_timeout = 10;
    else
        s.default_deferred_probe_timeout = 0;
    return s;
}

} // namespace viommu::guest::driver_core
