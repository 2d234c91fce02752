// Host programs the real boot needs (apt-get, dpkg-deb, xz, busybox, gzip, QEMU), run without a shell.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace viommu::system::truth {

struct CommandResult {
    int status = -1;        // the exit status; -1 when it did not exit (killed, or could not start)
    bool timed_out = false; // killed at the time limit
    std::string out;        // its standard output, when captured
};

struct CommandOptions {
    std::filesystem::path cwd;               // empty: ours
    std::optional<std::filesystem::path> stdout_file; // else captured in CommandResult::out
    std::optional<std::filesystem::path> stderr_file; // else ours
    std::optional<std::chrono::milliseconds> time_limit;
};

// Runs argv[0] (searched on PATH) with argv; its standard error goes to ours unless a file is named, so
// the user sees why a step failed.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

// "apt-get download linux-image-...": argv joined with spaces, for messages and recordings.
std::string command_text(const std::vector<std::string>& argv);

} // namespace viommu::system::truth
