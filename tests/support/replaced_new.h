// A global operator new that counts allocations and can be told to fail: for the tests that check the
// device's hot path allocates nothing and that a host allocation failure is survived. Only executables
// that link tests/support/replaced_new.cc have it (it replaces operator new for the whole process).
#pragma once

#include <cstdint>

namespace viommu::test {

// Allocations made so far, by every form of operator new.
uint64_t allocations();

// From now on, the throwing forms of operator new throw std::bad_alloc after `successes` more
// allocations succeed, until allow_allocations().
void fail_allocations_after(uint64_t successes);
void allow_allocations();

} // namespace viommu::test
