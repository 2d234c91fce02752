#include "system/monitor/event.h"

#include <chrono>

namespace viommu::system::monitor {

Timestamp Timestamp::now()
{
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    return {us / 1000000, us % 1000000};
}

nlohmann::ordered_json event_json(const Event& event)
{
    nlohmann::ordered_json j;
    j["timestamp"] = {{"seconds", event.timestamp.seconds}, {"microseconds", event.timestamp.microseconds}};
    j["event"] = event.name;
    j["data"] = event.data;
    return j;
}

} // namespace viommu::system::monitor
