#include "tests/fuzz/boot_check.h"

#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "system/boot/guest.h"
#include "system/boot/report_format.h"
#include "tests/fuzz/finding.h"

namespace viommu::fuzz {

namespace boot = system::boot;

namespace {

[[noreturn]] void boot_finding(std::string_view target, const guest::profiles::Profile& profile, const std::string& problem)
{
    finding(fmt::format("{}: booting with profile {}: {}", target, profile.name(), problem));
}

} // namespace

bool check_boot(const boot::GuestSpec& spec, const guest::profiles::Profile& profile, std::string_view target)
{
    boot::GuestReport first, second;
    try {
        first = boot::boot_guest(spec, profile);
        second = boot::boot_guest(spec, profile);
    } catch (const std::invalid_argument& e) {
        boot_finding(target, profile, std::string("the front end built a spec the boot refuses: ") + e.what());
    } catch (const std::runtime_error&) {
        return false;
    }
    const int exit_code = first.exit_code();
    if (exit_code != 0 && exit_code != 1)
        boot_finding(target, profile, fmt::format("exit status {}", exit_code));
    const std::string json = boot::render_json(first);
    if (boot::render_json(second) != json)
        boot_finding(target, profile, "two boots of the same guest gave different reports:\n" + json + "\n" +
                                          boot::render_json(second));
    if (boot::render_table(first).empty())
        boot_finding(target, profile, "an empty table");
    nlohmann::json parsed;
    try {
        parsed = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        boot_finding(target, profile, std::string("the JSON report does not parse: ") + e.what() + "\n" + json);
    }
    if (!parsed.is_object() || parsed.value("schema", -1) != boot::kReportSchema ||
        parsed.value("exit_code", -1) != exit_code || parsed.value("guest", std::string()) != first.guest ||
        !parsed["devices"].is_array() || parsed["devices"].size() != first.devices.size())
        boot_finding(target, profile, "the JSON report does not say what the report says:\n" + json);
    return true;
}

const std::vector<guest::profiles::Profile>& builtin_profiles()
{
    static const std::vector<guest::profiles::Profile> profiles = [] {
        std::vector<guest::profiles::Profile> all;
        for (const std::string& name : guest::profiles::Profile::builtin_names()) {
            auto p = guest::profiles::Profile::named(name);
            if (!p)
                finding("built-in profile " + name + ": " + p.error());
            all.push_back(std::move(*p));
        }
        return all;
    }();
    return profiles;
}

} // namespace viommu::fuzz
