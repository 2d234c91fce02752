// fuzz-profile-json: a user's kernel profile document (guest-model/profiles/profile.h, the JSON that
// viommu-boot --kernel FILE reads). Profile::from_json() must refuse it with a message that names the
// source, or accept it; an accepted profile must then answer for every behaviour of the facts table
// (has() throws only for a key the table does not have, which would be a bug here) with a reason, and
// boot the default guest (default_guest.xml, parsed once) as tests/fuzz/boot_check.h checks: the same
// report twice, a JSON report that parses, exit status 0 or 1.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "guest-model/profiles/fact_keys.h"
#include "guest-model/profiles/profile.h"
#include "system/boot/libvirt_domain.h"
#include "tests/fuzz/boot_check.h"
#include "tests/fuzz/finding.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace boot = viommu::system::boot;

namespace {

constexpr std::string_view kSource = "fuzz.json";

const boot::GuestSpec& default_guest()
{
    static const boot::GuestSpec spec = [] {
        auto s = boot::parse_domain_xml(boot::default_guest_xml(), boot::kDefaultGuestSource);
        if (!s)
            finding("the built-in default guest does not parse: " + s.error().what());
        return *s;
    }();
    return spec;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    (void)default_guest();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    if (size > kMaxDocument)
        return -1; // not kept in the corpus
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto profile = guest::profiles::Profile::from_json(text, kSource);
    if (!profile) {
        if (!profile.error().starts_with(fmt::format("{}: ", kSource)))
            finding("fuzz-profile-json: a refusal that does not name its source: " + profile.error());
        return 0;
    }
    for (const guest::profiles::FactKey key : guest::profiles::FactKeys::kAll) {
        const guest::profiles::Decision d = profile->has(key);
        if (d.why.empty())
            finding(fmt::format("fuzz-profile-json: profile {}: no reason for {} ({})", profile->name(), key.str(),
                                d.present ? "present" : "absent"));
    }
    // A profile built for another architecture than the default guest's is refused before any boot
    // (arch_mismatch(), as viommu-boot does).
    if (!profile->fits(default_guest().arch))
        return 0;
    check_boot(default_guest(), *profile, "fuzz-profile-json");
    return 0;
}
