// What differs between the releases the IOMMU core models (drivers/iommu/iommu.c), resolved once from
// the kernel profile: each switch is a behaviour of the facts table with the commit that decides it.
#pragma once

#include "guest-model/profiles/profile.h"

namespace viommu::guest::iommu {

struct CoreBehaviour {
    bool dma_fq_type = true;                   // lazy is a domain type, DMA-FQ (v5.15 bf3aed4660c6)
    bool lazy_needs_deferred_flush_cap = true; // DMA-FQ only with IOMMU_CAP_DEFERRED_FLUSH (v6.5 a4fdd9762272)
    bool print_default_domain = true;          // "Default domain type: ..." at subsys_initcall (v5.4)
    bool print_invalidation_policy = true;     // "DMA domain TLB invalidation policy: ..." (v5.15 d8577d2e331d)
    bool log_trailing_space = false;           // "%s %s" before v6.5 (32261d10943b): "Translated "
    bool join_attaches_twice = false;          // a device joining a domain is attached twice before v6.5 (0046a4337eae)

    static CoreBehaviour from(const profiles::Profile& profile);
};

} // namespace viommu::guest::iommu
