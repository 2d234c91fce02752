// An asynchronous event as QMP sends it (docs/interop/qmp-spec.txt §2.5): its name, its data and when
// it happened, {"timestamp": {"seconds": S, "microseconds": U}, "event": NAME, "data": {...}}; the time
// is the host's wall clock, as QEMU's qmp_event_build_dict() takes it (g_get_real_time()).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace viommu::system::monitor {

struct Timestamp {
    int64_t seconds = 0;
    int64_t microseconds = 0;
    static Timestamp now();
};

struct Event {
    std::string name;
    nlohmann::ordered_json data = nlohmann::ordered_json::object();
    Timestamp timestamp = Timestamp::now();
};

nlohmann::ordered_json event_json(const Event& event);

} // namespace viommu::system::monitor
