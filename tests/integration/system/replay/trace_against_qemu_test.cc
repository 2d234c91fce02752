// The device's virtio_iommu_* trace points against QEMU 7.2's own (hw/virtio/trace-events): one request
// script through the same guest driver into both devices, each with `virtio_iommu_*` traced, and the
// lines of the events both have compared as text. QEMU's are read from its stderr (its log backend).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "base/trace/trace.h"
#include "hw/virtio-iommu/behaviour.h"
#include "system/replay/compare.h"
#include "system/replay/qemu_target.h"
#include "system/replay/runner.h"
#include "system/replay/script.h"

using namespace viommu;
using namespace viommu::system::replay;
namespace vi = viommu::hw::virtio_iommu;

namespace {

constexpr uint32_t kEndpoint = 0x18; // 00:03.0, the endpoint QemuTarget places

// Events one side has and the other does not. QEMU's memory-API events (no IOMMU memory regions here)
// our own PROBE, status and fault-drop events. get_features differs
// in value (QEMU's includes transport bits virtio-pci drops later) and translate in its region's name.
const std::set<std::string> kNotCompared = {
    "virtio_iommu_init_iommu_mr",     "virtio_iommu_switch_address_space", "virtio_iommu_notify_map",
    "virtio_iommu_notify_unmap",      "virtio_iommu_remap",                "virtio_iommu_set_page_size_mask",
    "virtio_iommu_notify_flag_add",   "virtio_iommu_notify_flag_del",      "virtio_iommu_get_features",
    "virtio_iommu_translate",         "virtio_iommu_probe",                "virtio_iommu_request_done",
    "virtio_iommu_request_unwritten", "virtio_iommu_fault_dropped",
};

std::vector<std::string> comparable(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("virtio_iommu_"))
            continue;
        if (!kNotCompared.contains(line.substr(0, line.find(' '))))
            out.push_back(line);
    }
    return out;
}

ReplayOptions qemu_7_2_options()
{
    ReplayOptions o;
    o.device.use_profile(vi::find_device_profile("qemu-7.2")->behaviour);
    o.device.endpoints = {{vi::EndpointId(kEndpoint), vi::EndpointId(kEndpoint)}};
    o.device.reserved = {vi::ReservedRegion{{}, vi::IovaRange{Iova(0xfee00000), Iova(0xfeefffff)},
                                            vi::ResvMemSubtype::kMsi}};
    return o;
}

} // namespace

TEST_CASE("QEMU 7.2 and the device trace the virtio_iommu events both have with the same arguments",
          "[integration][qemu][trace]")
{
    const auto steps = parse_script("probe 0x18\nattach 1 0x18\nmap 1 0x1000 0x1fff 0xa000 rw\n"
                                    "map 1 0x3000 0x3fff 0xb000 r\nunmap 1 0 0xffff\nattach 2 0x18\n"
                                    "detach 2 0x18\nattach 0xffffffff 0x18\n");
    REQUIRE(steps);
    const ReplayOptions options = qemu_7_2_options();

    // Ours, the trace points writing into a string.
    std::ostringstream ours_text;
    const auto previous = trace::sink();
    auto logger = std::make_shared<spdlog::logger>("qemu-trace", std::make_shared<spdlog::sinks::ostream_sink_st>(ours_text));
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    trace::set_sink(logger);
    REQUIRE(trace::enable("virtio_iommu_*").matched > 0);
    {
        Runner ours(options);
        REQUIRE(ours.start());
        (void)run_all(ours, *steps);
    }
    trace::disable_all();
    trace::set_sink(previous);

    // QEMU's, with the same glob on its command line.
    auto target = QemuTarget::start("qemu-system-x86_64", options.device, {kEndpoint}, {"-trace", "virtio_iommu_*"});
    INFO((target ? std::string() : target.error().message));
    REQUIRE(target);
    QemuTarget& qemu = **target;
    Runner theirs(options, std::move(*target));
    REQUIRE(theirs.start());
    (void)run_all(theirs, *steps);
    REQUIRE_FALSE(qemu.failure());

    const auto mine = comparable(ours_text.str());
    const auto qemus = comparable(qemu.diagnostics());
    INFO("ours:\n" << ours_text.str() << "\nQEMU's:\n" << qemu.diagnostics());
    REQUIRE(std::find(mine.begin(), mine.end(), "virtio_iommu_attach domain=-1 endpoint=24") != mine.end());
    CHECK(mine == qemus);
}
