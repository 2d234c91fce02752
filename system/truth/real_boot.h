// The guest booted for real: its kernel from Debian's archive (kernel_package.h), an initramfs with
// truth-probe (initramfs.h), the machine as QEMU options (qemu_command.h), run under QEMU with TCG and
// the virtio-iommu's trace on, within a time limit; then what the probe printed and what the device
// traced, read into an Observation.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "base/expected.h"
#include "system/boot/guest_spec.h"
#include "system/truth/kernel_package.h"
#include "system/truth/observation.h"
#include "system/truth/qemu_command.h"

namespace viommu::system::truth {

struct RealBootOptions {
    std::filesystem::path cache;   // where kernels are downloaded and unpacked, and the run's files go
    std::filesystem::path probe;   // truth-probe, built static
    std::chrono::seconds time_limit{300};
};

struct RealBoot {
    Observation observation;
    std::string console;                 // the serial console, as written
    std::string trace;                   // QEMU's trace log
    std::string qemu_stderr;             // what QEMU reported (error_report(): faults it could not deliver, ...)
    std::vector<std::string> qemu_argv;  // the exact command line
    KernelPackage kernel;
    std::string qemu_version;            // "QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)"
    std::vector<std::string> modules;    // the initramfs's modules
    std::vector<std::string> notes;      // the stand-in devices, one sentence each
    double seconds = 0;                  // how long QEMU ran
};

struct RealBootFailure {
    std::string message;
    std::filesystem::path work; // the run's files (console, trace), kept for a look
};

// Boots `spec` (whose plan qemu_plan() made) under the profile's real kernel.
Expected<RealBoot, RealBootFailure> real_boot(const boot::GuestSpec& spec, const QemuPlan& plan,
                                              const TruthProfile& profile, const RealBootOptions& options);

// The lines of QEMU's trace the comparison reads (trace_requests.h) and the feature offer, without the
// per-access translation lines: what a recording keeps.
std::string trimmed_trace(std::string_view trace);
// The console from the probe's first marker to its last, without carriage returns: what a recording keeps.
std::string trimmed_console(std::string_view console);

} // namespace viommu::system::truth
