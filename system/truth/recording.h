// A real boot kept for the suite (tests/ground-truth/recordings/NAME/): the guest's XML, the parsed
// report, the trimmed console and trace, the exact QEMU command line and what ran (versions.json).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "system/truth/observation.h"
#include "system/truth/real_boot.h"

namespace viommu::system::truth {

inline constexpr const char* kRecordedXml = "domain.xml";
inline constexpr const char* kRecordedReport = "report.json";
inline constexpr const char* kRecordedConsole = "console.log";
inline constexpr const char* kRecordedTrace = "trace.log";
inline constexpr const char* kRecordedArgv = "qemu-argv.txt";
inline constexpr const char* kRecordedVersions = "versions.json";
inline constexpr const char* kRecordedQemuStderr = "qemu-stderr.log";

struct Recording {
    std::string name;       // the folder's name
    std::string domain_xml;
    std::string profile;    // the kernel profile it was booted under (versions.json)
    Observation real;       // report.json
    std::string console;
    std::string trace;
};

// Writes the recording into dir (created); an error message when a file cannot be written.
Expected<void, std::string> write_recording(const std::filesystem::path& dir, const std::string& domain_xml,
                                              const RealBoot& boot);
Expected<Recording, std::string> read_recording(const std::filesystem::path& dir);

// The command line as one shell-quoted line.
std::string shell_line(const std::vector<std::string>& argv);

} // namespace viommu::system::truth
