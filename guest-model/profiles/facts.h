// The facts table: each guest-kernel behaviour the model can switch, with the commit that brought it
// to mainline, its first release, and the stable point releases that took a backport. A kernel version
// resolves to "present" or "absent" for each behaviour, citing the commit that decides.
//
// The table is data (data/facts.json, compiled into the binary); adding a behaviour is a data-only
// change plus the code that reads it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "guest-model/profiles/kernel_version.h"

namespace viommu::guest::profiles {

struct StableBackport {
    KernelVersion release; // the first point release of its stable tree with the backport
    std::string commit;    // the backport's own commit id in that tree; empty when it was not established
    std::string evidence;  // how the release was established when that is not plain (a manual backport, ...)
};

struct Behaviour {
    std::string key;     // "driver_core.match_defer_stops_attach"
    std::string summary; // one line, what the behaviour is
    std::string commit;  // mainline commit, 12+ hex digits; empty when the id was not established, in
                         // which case release_evidence is never empty
    std::string subject; // its subject line
    KernelVersion release;        // the first mainline release with it
    std::string release_evidence; // how that release was established (a pull name, source snapshots)
    std::vector<StableBackport> stable;
    std::string notes;
};

// Whether a profile has a behaviour, and why.
struct Decision {
    bool present = false;
    std::string commit; // the commit that decides: the mainline one, or the backport that brought it;
                        // empty when the mainline id was not established and no backport decides
    std::string why;    // e.g. "in mainline since v6.0 (25e9fbf0fd38)", or for an id not established
                        // "in mainline since v5.4 (commit id not established: <release_evidence>)"
};

class FactsTable {
public:
    // Parses and checks a facts document; errors name the source and the field.
    [[nodiscard]] static Expected<FactsTable, std::string> parse(std::string_view json, std::string_view source);
    // The table compiled into the binary. Its validity is checked by a test; a broken one throws.
    static const FactsTable& builtin();

    const std::vector<Behaviour>& behaviours() const { return behaviours_; }
    const Behaviour* find(std::string_view key) const;

    // Present if version >= the mainline release, or if version is in a stable tree at or after the
    // point release that took the backport.
    static Decision decide(const Behaviour& behaviour, const KernelVersion& version);

private:
    std::vector<Behaviour> behaviours_; // sorted by key
};

} // namespace viommu::guest::profiles
