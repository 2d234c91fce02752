// What fuzz-domain-xml and fuzz-profile-json ask of a boot (system/boot/guest.h) once its input has
// been accepted: the same guest and profile give the same report byte for byte (guest.h promises a
// deterministic run), the JSON report parses and says what the report says, the exit status is 0 or 1,
// and the table renders.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "system/boot/guest_spec.h"
#include "guest-model/profiles/profile.h"

namespace viommu::fuzz {

// The document targets' inputs are capped at 16 KiB: far more than any domain XML fixture (the largest,
// q35-topology.xml, is 5 KiB) or profile (all built-in profiles together, data/profiles.json, are 12 KiB),
// and a bound on the work libvirt and the parsers do per input.
inline constexpr std::size_t kMaxDocument = 16 << 10;

// Boots spec with profile twice and checks both reports; a broken promise is a finding (abort). Returns
// false when the machine could not be built: guest RAM that cannot be mapped is refused with
// std::runtime_error (system/machine/machine.cc), a defined outcome for a domain asking for exabytes.
// std::invalid_argument, which boot_guest() keeps for a spec no front end should build, is a finding.
bool check_boot(const system::boot::GuestSpec& spec, const guest::profiles::Profile& profile, std::string_view target);

// Every built-in kernel profile (Profile::builtin_names()), loaded once.
const std::vector<guest::profiles::Profile>& builtin_profiles();

} // namespace viommu::fuzz
