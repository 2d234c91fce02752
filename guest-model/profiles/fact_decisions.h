// The behaviours one layer of the guest read from its profile, each with its decision, in the order
// read: what a layer's behaviour struct keeps when it must cite the commit behind what it does (a VFIO
// verdict's commit), or show what it was resolved from (the driver core's tests).
#pragma once

#include <utility>
#include <vector>

#include "guest-model/profiles/fact_key.h"
#include "guest-model/profiles/profile.h"

namespace viommu::guest::profiles {

class FactDecisions {
public:
    // Asks the profile, keeps the answer and returns whether the behaviour is present.
    bool read(const Profile& profile, FactKey key);
    // The decision for a key read before; std::logic_error for one never read (a bug in the layer).
    const Decision& of(FactKey key) const;
    const std::vector<std::pair<FactKey, Decision>>& all() const { return all_; }

private:
    std::vector<std::pair<FactKey, Decision>> all_;
};

} // namespace viommu::guest::profiles
