#include "system/truth/recording.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "system/truth/text_file.h"

namespace viommu::system::truth {
namespace fs = std::filesystem;
namespace {

bool write_text(const fs::path& p, const std::string& text)
{
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    return static_cast<bool>(out);
}

} // namespace

std::string shell_line(const std::vector<std::string>& argv)
{
    static constexpr std::string_view kPlain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,:/+@%";
    std::string out;
    for (const std::string& a : argv) {
        if (!out.empty())
            out.push_back(' ');
        if (!a.empty() && a.find_first_not_of(kPlain) == std::string::npos) {
            out.append(a);
            continue;
        }
        out.push_back('\'');
        for (char c : a) {
            if (c == '\'')
                out.append("'\\''");
            else
                out.push_back(c);
        }
        out.push_back('\'');
    }
    return out;
}

Expected<void, std::string> write_recording(const fs::path& dir, const std::string& domain_xml, const RealBoot& boot)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return unexpected(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    const nlohmann::ordered_json versions = {
        {"profile", boot.observation.kernel},
        {"kernel_package", boot.kernel.package},
        {"kernel_package_version", boot.kernel.version},
        {"kernel_release", boot.kernel.release},
        {"qemu", boot.qemu_version},
        {"boot_seconds", static_cast<double>(static_cast<long>(boot.seconds * 10)) / 10},
        {"stand_ins", boot.notes},
        {"modules", boot.modules}};
    const std::pair<const char*, std::string> files[] = {
        {kRecordedXml, domain_xml},
        {kRecordedReport, to_json(boot.observation).dump(2) + "\n"},
        {kRecordedConsole, trimmed_console(boot.console)},
        {kRecordedTrace, trimmed_trace(boot.trace)},
        {kRecordedArgv, shell_line(boot.qemu_argv) + "\n"},
        {kRecordedQemuStderr, boot.qemu_stderr},
        {kRecordedVersions, versions.dump(2) + "\n"}};
    for (const auto& [name, text] : files)
        if (!write_text(dir / name, text))
            return unexpected(fmt::format("cannot write {}", (dir / name).string()));
    return {};
}

Expected<Recording, std::string> read_recording(const fs::path& dir)
{
    Recording r;
    r.name = dir.filename().string();
    std::optional<std::string> texts[4];
    const char* names[4] = {kRecordedXml, kRecordedReport, kRecordedVersions, kRecordedConsole};
    for (int i = 0; i < 4; ++i)
        if (!(texts[i] = read_text_file(dir / names[i])))
            return unexpected(fmt::format("{}: no {}", dir.string(), names[i]));
    r.domain_xml = *texts[0];
    r.console = *texts[3];
    r.trace = read_text_file(dir / kRecordedTrace).value_or("");
    try {
        auto real = observation_from_json(nlohmann::json::parse(*texts[1]));
        if (!real)
            return unexpected(fmt::format("{}: {}", (dir / kRecordedReport).string(), real.error()));
        r.real = std::move(*real);
        nlohmann::json::parse(*texts[2]).at("profile").get_to(r.profile);
    } catch (const nlohmann::json::exception& e) {
        return unexpected(fmt::format("{}: {}", dir.string(), e.what()));
    }
    return r;
}

} // namespace viommu::system::truth
