#include "system/replay/against_qemu.h"

#include <fmt/format.h>

#include "system/qemu/qemu_version.h"
#include "system/replay/qemu_target.h"

namespace viommu::system::replay {

namespace {

AgainstQemu failed(AgainstQemu::Outcome outcome, std::string message)
{
    AgainstQemu r;
    r.outcome = outcome;
    r.message = std::move(message);
    return r;
}

} // namespace

AgainstQemu run_against_qemu(const std::string& binary, const ReplayOptions& options, const std::vector<Step>& steps)
{
    using Outcome = AgainstQemu::Outcome;
    const auto version = qemu::qemu_version(binary);
    if (!version)
        return failed(Outcome::kPeerFailed, version.error());
    auto qemu = QemuTarget::start(binary, options.device, endpoints_named(steps));
    if (!qemu)
        return failed(qemu.error().kind == QemuTargetError::Kind::kNotExpressible ? Outcome::kNotExpressible
                                                                                  : Outcome::kPeerFailed,
                      qemu.error().message);
    QemuTarget& target = **qemu;
    Runner ours(options);
    Runner theirs(options, std::move(*qemu));
    if (auto ok = ours.start(); !ok)
        return failed(Outcome::kDeviceFailed, "the driver could not bring the device up: " + ok.error());
    if (auto ok = theirs.start(); !ok)
        return failed(Outcome::kPeerFailed,
                      fmt::format("the driver could not bring QEMU's device up: {}\n{}", ok.error(), target.diagnostics()));
    const auto our_lines = run_all(ours, steps);
    const auto their_lines = run_all(theirs, steps);
    if (const auto failure = target.failure()) {
        // The step it stopped at: the first whose request QEMU did not return. The failure ends with
        // QEMU's stderr and how it exited.
        std::size_t at = 0;
        while (at < their_lines.size() && their_lines[at].step.find("\"error\"") == std::string::npos)
            ++at;
        return failed(Outcome::kPeerFailed,
                      fmt::format("QEMU stopped answering{}: {}",
                                  at < steps.size() ? fmt::format(" at line {}", steps[at].line) : "", *failure));
    }
    AgainstQemu r;
    // Differences are explained by the departures of the peer's release from our device's behaviour.
    std::vector<Deviation> deviations;
    if (const hw::virtio_iommu::DeviceProfile* profile =
            hw::virtio_iommu::find_device_profile(fmt::format("qemu-{}.{}", version->major, version->minor)))
        deviations = departure_runs(options, *profile, steps);
    else
        r.notes.push_back(fmt::format("no device profile for {} (there are {}): no difference can be explained",
                                      version->line, hw::virtio_iommu::device_profile_names()));
    r.comparison = compare(steps, our_lines, their_lines, deviations, "qemu");
    return r;
}

} // namespace viommu::system::replay
