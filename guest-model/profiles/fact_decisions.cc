#include "guest-model/profiles/fact_decisions.h"

#include <stdexcept>

#include <fmt/format.h>

namespace viommu::guest::profiles {

bool FactDecisions::read(const Profile& profile, FactKey key)
{
    Decision d = profile.has(key);
    const bool present = d.present;
    all_.emplace_back(key, std::move(d));
    return present;
}

const Decision& FactDecisions::of(FactKey key) const
{
    for (const auto& [read, decision] : all_)
        if (read == key)
            return decision;
    throw std::logic_error(fmt::format("behaviour \"{}\" was not resolved from the profile", key.str()));
}

} // namespace viommu::guest::profiles
