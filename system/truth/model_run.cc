#include "system/truth/model_run.h"

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "base/trace/trace.h"
#include "system/boot/guest.h"
#include "system/truth/model_observation.h"

namespace viommu::system::truth {

Observation run_model(boot::GuestSpec spec, const guest::profiles::Profile& profile)
{
    spec.direct_kernel_boot = true;
    std::ostringstream trace_text;
    auto logger = std::make_shared<spdlog::logger>("truth-model",
                                                   std::make_shared<spdlog::sinks::ostream_sink_st>(trace_text));
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    const auto previous = trace::sink();
    trace::set_sink(logger);
    trace::enable("virtio_iommu_*");
    struct Restore {
        std::shared_ptr<spdlog::logger> sink;
        ~Restore()
        {
            trace::disable_all();
            trace::set_sink(sink);
        }
    } restore{previous};
    const boot::GuestReport report = boot::boot_guest(spec, profile);
    logger->flush();
    return observation_from_model(report, trace_text.str());
}

} // namespace viommu::system::truth
