// The profile data files, compiled in (embed_json.py generates the definitions from data/*.json at
// build time), so built-in profiles need no file lookup at run time.
#pragma once

#include <string_view>

namespace viommu::guest::profiles::embedded {

std::string_view facts_json();
std::string_view profiles_json();

} // namespace viommu::guest::profiles::embedded
