// What the built-in facts table decides for one behaviour in one kernel version, for the tests that
// check each fact.
#pragma once

#include <catch2/catch.hpp>

#include "guest-model/profiles/facts.h"

namespace viommu::test {

inline guest::profiles::Decision decide(const char* behaviour, const char* version)
{
    const guest::profiles::Behaviour* b = guest::profiles::FactsTable::builtin().find(behaviour);
    INFO(behaviour);
    REQUIRE(b != nullptr);
    auto v = guest::profiles::KernelVersion::parse(version);
    REQUIRE(v);
    return guest::profiles::FactsTable::decide(*b, *v);
}

// Present from `first` on, absent in `before`.
inline void check_starts_at(const char* behaviour, const char* before, const char* first)
{
    INFO(behaviour << ": absent in " << before << ", present from " << first);
    CHECK_FALSE(decide(behaviour, before).present);
    CHECK(decide(behaviour, first).present);
}

} // namespace viommu::test
