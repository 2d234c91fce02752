#include "system/truth/observation.h"

#include <fmt/format.h>

namespace viommu::system::truth {

nlohmann::ordered_json to_json(const Observation& o)
{
    nlohmann::ordered_json devices = nlohmann::ordered_json::array();
    for (const DeviceObservation& d : o.devices) {
        nlohmann::ordered_json vfio = nullptr;
        if (d.vfio)
            vfio = {{"admitted", d.vfio->admitted}, {"stage", d.vfio->stage}, {"errno", d.vfio->error}};
        devices.push_back({{"bdf", d.bdf},
                           {"driver", d.driver},
                           {"group", d.group ? nlohmann::ordered_json(*d.group) : nlohmann::ordered_json(nullptr)},
                           {"domain", d.domain},
                           {"reserved_regions", d.reserved_regions},
                           {"vfio", std::move(vfio)}});
    }
    nlohmann::ordered_json endpoints = nlohmann::ordered_json::array();
    for (const EndpointRequests& e : o.endpoints)
        endpoints.push_back({{"endpoint", e.endpoint},
                             {"probes", e.probes},
                             {"attaches", e.attaches},
                             {"detaches", e.detaches},
                             {"maps", e.maps},
                             {"unmaps", e.unmaps},
                             {"faults", e.faults}});
    return {{"schema", 1},
            {"guest", o.guest},
            {"kernel", o.kernel},
            {"kernel_version", o.kernel_version},
            {"iommu",
             {{"driver_ready", o.iommu_driver_ready},
              {"device", o.iommu_device},
              {"bdf", o.iommu_bdf},
              {"features", o.features}}},
            {"devices", std::move(devices)},
            {"endpoints", std::move(endpoints)},
            {"attach_order", o.attach_order}};
}

Expected<Observation, std::string> observation_from_json(const nlohmann::json& j)
{
    try {
        if (j.at("schema").get<int>() != 1)
            return unexpected(fmt::format("schema {} is not 1", j.at("schema").dump()));
        Observation o;
        j.at("guest").get_to(o.guest);
        j.at("kernel").get_to(o.kernel);
        j.at("kernel_version").get_to(o.kernel_version);
        const nlohmann::json& iommu = j.at("iommu");
        iommu.at("driver_ready").get_to(o.iommu_driver_ready);
        iommu.at("device").get_to(o.iommu_device);
        iommu.at("bdf").get_to(o.iommu_bdf);
        iommu.at("features").get_to(o.features);
        for (const nlohmann::json& d : j.at("devices")) {
            DeviceObservation dev;
            d.at("bdf").get_to(dev.bdf);
            d.at("driver").get_to(dev.driver);
            if (!d.at("group").is_null())
                dev.group = d.at("group").get<int>();
            d.at("domain").get_to(dev.domain);
            d.at("reserved_regions").get_to(dev.reserved_regions);
            if (const nlohmann::json& v = d.at("vfio"); !v.is_null())
                dev.vfio = VfioOutcome{v.at("admitted").get<bool>(), v.at("stage").get<std::string>(),
                                       v.at("errno").get<int>()};
            o.devices.push_back(std::move(dev));
        }
        for (const nlohmann::json& e : j.at("endpoints"))
            o.endpoints.push_back({e.at("endpoint").get<uint32_t>(), e.at("probes").get<unsigned>(),
                                   e.at("attaches").get<unsigned>(), e.at("detaches").get<unsigned>(),
                                   e.at("maps").get<unsigned>(), e.at("unmaps").get<unsigned>(),
                                   e.at("faults").get<unsigned>()});
        j.at("attach_order").get_to(o.attach_order);
        return o;
    } catch (const nlohmann::json::exception& e) {
        return unexpected(std::string(e.what()));
    }
}

} // namespace viommu::system::truth
