#include "system/truth/real_boot.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "system/truth/host_command.h"
#include "system/truth/text_file.h"
#include "system/truth/initramfs.h"
#include "system/truth/probe_records.h"
#include "system/truth/trace_requests.h"

namespace viommu::system::truth {
namespace fs = std::filesystem;
namespace {

std::string read_file(const fs::path& p)
{
    return read_text_file(p).value_or("");
}

Unexpected<RealBootFailure> failure(std::string message, fs::path work = {})
{
    return unexpected(RealBootFailure{std::move(message), std::move(work)});
}

std::string first_line(const std::string& text)
{
    return text.substr(0, text.find('\n'));
}

} // namespace

std::string trimmed_trace(std::string_view trace)
{
    static const char* const kKept[] = {"virtio_iommu_get_features ", "virtio_iommu_attach ", "virtio_iommu_detach ",
                                        "virtio_iommu_map ", "virtio_iommu_unmap ", "virtio_iommu_fill_resv_property ",
                                        "virtio_iommu_report_fault ", "virtio_iommu_set_config "};
    std::string out;
    while (!trace.empty()) {
        const size_t nl = trace.find('\n');
        const std::string_view line = trace.substr(0, nl);
        trace.remove_prefix(nl == std::string_view::npos ? trace.size() : nl + 1);
        for (const char* kept : kKept)
            if (line.find(kept) != std::string_view::npos) {
                out.append(line);
                out.push_back('\n');
                break;
            }
    }
    return out;
}

std::string trimmed_console(std::string_view console)
{
    const size_t begin = console.find("VIOMMU-TRUTH-BEGIN");
    const size_t end = console.rfind("VIOMMU-TRUTH-END");
    if (begin == std::string_view::npos || end == std::string_view::npos || end < begin)
        return std::string(console);
    std::string out(console.substr(begin, end - begin + std::string_view("VIOMMU-TRUTH-END").size()));
    std::erase(out, '\r');
    return out + "\n";
}

Expected<RealBoot, RealBootFailure> real_boot(const boot::GuestSpec& spec, const QemuPlan& plan,
                                              const TruthProfile& profile, const RealBootOptions& options)
{
    RealBoot boot;
    auto kernel = fetch_kernel(profile, options.cache);
    if (!kernel)
        return failure(kernel.error());
    boot.kernel = *kernel;

    auto busybox = guest_busybox(profile, options.cache);
    if (!busybox)
        return failure(busybox.error());

    const fs::path work = options.cache / fmt::format("run-{}", getpid());
    InitramfsInputs inputs;
    inputs.arch = profile.arch;
    inputs.busybox = *busybox;
    inputs.probe = options.probe;
    inputs.vfio_ids = plan.vfio_ids;
    auto initramfs = build_initramfs(boot.kernel, inputs, work);
    if (!initramfs)
        return failure(initramfs.error(), work);
    boot.modules = initramfs->modules;
    boot.notes = plan.notes;

    const fs::path scratch = work / "scratch.img";
    // The virtio-blk disk's backing: 1 MiB of zeros (the guest only binds the driver to it).
    std::ofstream(scratch, std::ios::binary).put('\0');
    std::error_code ec;
    fs::resize_file(scratch, 1 << 20, ec);
    std::ofstream events(work / "trace-events");
    events << "virtio_iommu_*\n";
    events.close();
    if (ec || !events)
        return failure(fmt::format("cannot write the scratch disk or trace events in {}", work.string()), work);

    std::string append = fmt::format("console={} panic=-1", plan.console);
    for (const std::string& a : plan.kernel_args)
        append += " " + a;
    boot.qemu_argv = {std::string(profile.qemu)};
    for (const std::string& a : plan.args) {
        std::string arg = a;
        if (const size_t at = arg.find(kScratchImage); at != std::string::npos)
            arg.replace(at, std::string_view(kScratchImage).size(), scratch.string());
        boot.qemu_argv.push_back(std::move(arg));
    }
    const fs::path console_file = work / "console.log";
    const fs::path trace_file = work / "trace.log";
    for (const std::string& a :
         {std::string("-kernel"), boot.kernel.vmlinuz.string(), std::string("-initrd"), initramfs->image.string(),
          std::string("-append"), append, std::string("-serial"), "file:" + console_file.string(),
          std::string("-monitor"), std::string("none"), std::string("-trace"),
          "events=" + (work / "trace-events").string(), std::string("-D"), trace_file.string()})
        boot.qemu_argv.push_back(a);

    boot.qemu_version = first_line(run_command({std::string(profile.qemu), "--version"}).out);
    const auto start = std::chrono::steady_clock::now();
    CommandOptions limited;
    limited.stdout_file = work / "qemu.out";
    limited.stderr_file = work / "qemu.err";
    limited.time_limit = options.time_limit;
    const CommandResult qemu = run_command(boot.qemu_argv, limited);
    boot.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    boot.console = read_file(console_file);
    boot.trace = read_file(trace_file);
    boot.qemu_stderr = read_file(work / "qemu.err");
    // QEMU's own diagnostics (error_report(): a fault it could not deliver, ...), a warning line each.
    std::istringstream qemu_said(boot.qemu_stderr);
    for (std::string line; std::getline(qemu_said, line);)
        spdlog::warn("{}", line);
    if (qemu.timed_out)
        return failure(fmt::format("the guest did not power off within {} s", options.time_limit.count()), work);
    if (qemu.status != 0)
        return failure(fmt::format("{} exited with status {}", profile.qemu, qemu.status), work);
    if (const size_t panic = boot.console.find("Kernel panic"); panic != std::string::npos)
        return failure(first_line(boot.console.substr(panic)), work);
    auto probe = parse_probe_output(boot.console);
    if (!probe)
        return failure(probe.error(), work);
    boot.observation = observation_from_probe(*probe);
    boot.observation.guest = spec.name;
    boot.observation.kernel = std::string(profile.name);
    TraceRequests requests = trace_requests(boot.trace);
    boot.observation.endpoints = std::move(requests.endpoints);
    boot.observation.attach_order = std::move(requests.attach_order);
    fs::remove_all(work, ec);
    return boot;
}

} // namespace viommu::system::truth
